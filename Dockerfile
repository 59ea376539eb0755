FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=config.settings.production \
    WARRANT_DATA_DIR=/data STATIC_ROOT=/app/static-root
WORKDIR /app
COPY pyproject.toml README.md ./
COPY annotator ./annotator
COPY config ./config
COPY templates ./templates
COPY manage.py ./
RUN pip install --no-cache-dir . \
 && SECRET_KEY=build-only python manage.py collectstatic --noinput --verbosity 0
RUN useradd --create-home warrant && mkdir -p /data && chown warrant /data
USER warrant
EXPOSE 8000
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3"]
