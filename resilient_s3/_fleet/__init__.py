"""Beyond one process: a client that pickles as its recipe, and a rate shared through Redis."""
