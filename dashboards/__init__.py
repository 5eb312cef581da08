"""Streamlit dashboards: thin pages over core. All caching lives in dashboards/data.py."""
