"""Pure-Python core of OpenMNR. Never imports Django: it runs in the CLI, in workers and in an
industry member's own pipeline."""
