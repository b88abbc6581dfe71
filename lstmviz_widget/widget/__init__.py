"""Jupyter widgets (anywidget): the explorer."""
