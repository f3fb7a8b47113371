"""The territory tree as each service keeps it (its own table of `territory_id` and `parent_id`, fed
by the projects service's events): the recursive queries every service needs, written once."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import InstrumentedAttribute

Column = InstrumentedAttribute[Any]


def subtree_query(territory_id: Column, parent_id: Column, of: str) -> Select[tuple[str]]:
    """The territory `of` and every territory under it."""
    tree = select(territory_id).where(territory_id == of).cte(recursive=True)
    tree = tree.union_all(select(territory_id).where(parent_id == tree.c[territory_id.key]))
    return select(tree.c[territory_id.key])


def lineage_query(territory_id: Column, parent_id: Column, of: str) -> Select[tuple[str]]:
    """The territory `of` and every territory above it, nearest first."""
    chain = select(territory_id, parent_id).where(territory_id == of).cte(recursive=True)
    chain = chain.union_all(select(territory_id, parent_id).where(territory_id == chain.c[parent_id.key]))
    return select(chain.c[territory_id.key])
