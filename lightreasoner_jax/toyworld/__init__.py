"""The toy world: synthetic multi-step arithmetic problems, their tokenizer and two tiny trained models."""
