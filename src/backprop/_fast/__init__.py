"""The speed room: every trick that makes training fast, behind the engine's plain contracts.

Work in progress for the restructure (issue 10); see docs/ARCHITECTURE.md.
"""
