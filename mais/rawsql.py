"""Reading model rows with plain SQL, converted exactly as the ORM converts them.

For the few reads that run on every request (issue 6): building the same ORM
query each time cost about as much as running it. The statement is built once
per (model, fields) and cached; each value passes through the converters the
ORM itself would apply (``connection.ops.get_db_converters`` and the field's
``from_db_value``). Tests compare each user of this with the ORM's own answer.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

from django.db import connection
from django.db.models import Field, Model

Converter = Callable[[Any, Any, Any], Any]


@functools.lru_cache(maxsize=256)
def columns(model: type[Model], fields: tuple[str, ...]) -> tuple[str, tuple[tuple[Any, tuple[Converter, ...]], ...]]:
    """("table"."column", ... for the fields in order, and per column the expression and its converters)."""
    table = model._meta.db_table
    names, converters = [], []
    for name in fields:
        field = model._meta.get_field(name)
        assert isinstance(field, Field)  # concrete fields only
        names.append(f"{connection.ops.quote_name(table)}.{connection.ops.quote_name(field.column or name)}")
        column = field.get_col(table)
        converters.append((column, tuple(connection.ops.get_db_converters(column)) + tuple(field.get_db_converters(connection))))
    return ", ".join(names), tuple(converters)


def convert(row: Sequence[Any], converters: Sequence[tuple[Any, Sequence[Converter]]]) -> list[Any]:
    """The row's values as the ORM would return them."""
    out = []
    for value, (expression, functions) in zip(row, converters, strict=True):
        for function in functions:
            value = function(value, expression, connection)
        out.append(value)
    return out


@functools.cache
def attnames(model: type[Model]) -> tuple[str, ...]:
    """The model's concrete fields as ``Model.from_db`` takes them (``agency_id``, not ``agency``)."""
    return tuple(f.attname for f in model._meta.concrete_fields)
