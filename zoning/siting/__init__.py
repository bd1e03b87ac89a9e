"""Siting review: may this project go here? A verdict with every rule that fired.

Modules: :mod:`~zoning.siting.context` (the layers a review looks at), :mod:`~zoning.siting.rules`
(the ``[siting]`` table), :mod:`~zoning.siting.checks` (one check per concern),
:mod:`~zoning.siting.review` (the verdict) and :mod:`~zoning.siting.report` (the HTML report).
"""
