import multiprocessing

from django.apps import AppConfig


class BanksConfig(AppConfig):
    """Banks of confirmed hashes, their curation with four eyes, and the match API."""

    name = "openmnr.banks"
    label = "banks"

    def ready(self):
        # Uploads are hashed in children of multiprocessing's fork server (openmnr.core.media's
        # run_isolated). Without a preload every child imports numpy, Pillow and pdqhash again,
        # about a second per upload; with it a child starts from a server that holds them.
        multiprocessing.set_forkserver_preload(["openmnr.core.signals.pdq"])
