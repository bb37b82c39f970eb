"""Celery tasks: thin wrappers that call the service layer or an integration client."""
