"""Adapters implementing the ports: ``memory`` for tests and in-process rows, ``sqlalchemy`` for
databases."""
