"""Index building: report files in, a self-describing index folder out.

Pipeline: clean → structure → chunk → embed → store.
"""
