"""The skill taxonomy shared by every service as reference data."""

from .loading import curated_skills, load_taxonomy
from .model import Skill, Taxonomy, TaxonomyError, fold

__all__ = ["Skill", "Taxonomy", "TaxonomyError", "curated_skills", "fold", "load_taxonomy"]
