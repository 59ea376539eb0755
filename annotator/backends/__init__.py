"""Warrant's database backends (``DATABASES["default"]["ENGINE"]``, config/settings)."""
