# backprop-lab: CPU-only image, non-root, health-checked.
#   docker build -t backprop-lab .
#   docker run -p 8501:8501 -e STREAMLIT_SERVER_COOKIE_SECRET=<shared secret> backprop-lab
# The stage `proxy` is deploy/compose.yaml's nginx (the replicas' frontend files, gzipped, beside it).
FROM python:3.11-slim AS app

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app

# CPU wheel of torch first (PyTorch's CPU index), so requirements.txt finds torch==2.13.0 satisfied
# instead of pulling the multi-GB CUDA build from PyPI.
COPY requirements.txt .
RUN pip install --index-url https://download.pytorch.org/whl/cpu torch==2.13.0 \
 && pip install -r requirements.txt

COPY .streamlit .streamlit
COPY backprop_core backprop_core
COPY dashboard dashboard

RUN useradd --create-home --uid 10001 learner && chown -R learner /app
USER learner

EXPOSE 8501
HEALTHCHECK --interval=30s --timeout=5s --start-period=40s --retries=3 \
  CMD python -c "import urllib.request, sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=4).read() != b'ok')"

CMD ["python", "-m", "streamlit", "run", "dashboard/server.py", "--server.address=0.0.0.0", "--server.port=8501"]

# deploy/compose.yaml's proxy: nginx serving this image's own frontend files (deploy/serve.py
# --web-files: Streamlit's /static/ folder with each text file gzipped beside it), so that a class
# opening the link at once never asks the replicas for them.
# Its default configuration answers only /static/ (Kubernetes runs it beside the replicas).
FROM app AS web
COPY deploy deploy
RUN python deploy/serve.py --web-files /tmp/web \
 && python deploy/serve.py --web-server /srv/backprop-lab-web > /tmp/web.conf

FROM nginxinc/nginx-unprivileged:1.27 AS proxy
COPY --from=web /tmp/web /srv/backprop-lab-web
COPY --from=web /tmp/web.conf /etc/nginx/conf.d/default.conf

# The default target: the app.
FROM app
