"""Settings: ``base`` holds what every environment shares; ``local``, ``test`` and
``production`` each start from it. Values come from the environment (and from a
gitignored ``.env`` file, which the real environment overrides)."""
