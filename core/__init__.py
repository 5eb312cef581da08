"""The domain library of the placement workbench. Never imports streamlit."""
