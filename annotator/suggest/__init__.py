"""Suggestions: recommenders that propose the argument skeleton of a brief.

Pure Python, no Django (DESIGN.md, "Layers"). Three recommenders answer the same
:class:`~annotator.suggest.types.Recommender` protocol:

* :class:`~annotator.suggest.cues.CueRecommender` reads the structure a brief announces;
* :class:`~annotator.suggest.learned.LearnedModel` is trained on a project's work;
* :class:`~annotator.suggest.external.ExternalRecommender` asks a server elsewhere.

python-crfsuite and scikit-learn are imported inside the functions that use them.
"""
