"""Every code example of the five behaviour documents, as written there.

Each sub-package holds the examples of one document, unchanged (only the imports a
snippet leaves implicit are added around it); ``urls.py`` here routes them all for
``test_seed_examples.py``.
"""
