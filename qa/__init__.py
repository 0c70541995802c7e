"""Question answering: a question in, a quoted answer with citations out.

Pipeline: analyse → retrieve → fuse → quote → cite.
"""
