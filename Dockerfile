# Image of the workbench: the Streamlit app by default; the same image runs the jobs
# (docker-compose.yml overrides the command for migrate and scheduler).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    STREAMLIT_BROWSER_GATHER_USAGE_STATS=false

WORKDIR /app

# Dependencies first, so that a code change does not reinstall them.
COPY requirements.txt ./
RUN pip install --no-cache-dir -r requirements.txt

RUN useradd --create-home --uid 10001 --user-group placement
COPY --chown=placement:placement . .
# DATA_DIR: a fresh named volume mounted here takes this owner, so the non-root user can write to it.
RUN mkdir -p /app/data && chown placement:placement /app/data

USER placement

EXPOSE 8501
CMD ["streamlit", "run", "dashboards/server.py", "--server.address", "0.0.0.0", "--server.port", "8501", "--server.headless", "true"]
