"""Survey data: reading questionnaires, the codebook, data-quality checks and descriptives.

``load_survey`` reads a CSV, Excel, SPSS, Stata or Parquet file (or takes a DataFrame), scores
the Likert items (reverse-keying when asked) and reports every problem it finds in
``Survey.checks`` without silently fixing anything.
"""

from .codebook import Codebook, ItemInfo
from .descriptives import descriptives
from .load import load_survey
from .normality import mardia
from .survey import Survey

__all__ = ["load_survey", "Survey", "Codebook", "ItemInfo", "descriptives", "mardia"]
