"""The probe: the only package that imports Keras. It turns a model + sequences into a Capture."""
