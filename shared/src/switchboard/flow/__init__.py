"""The flow engine: documents, expressions, templates, the interpreter and one module per action."""
