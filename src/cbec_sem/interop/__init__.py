"""Working with other SEM software: :mod:`.semopy` (a cross-check of a fit against semopy)."""
