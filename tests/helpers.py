"""Helpers the tests share (fixtures live in conftest.py)."""


def sign_in_client(client, user, *, verified: bool = True):
    """Sign `user` in on `client` as the sign-in page would, with or without the second factor."""
    import time

    from django_otp import DEVICE_ID_SESSION_KEY

    from openmnr.accounts.middleware import SIGNED_IN_AT
    from openmnr.accounts.stepup import SESSION_KEY as STEP_UP_KEY

    client.force_login(user)
    session = client.session
    session[SIGNED_IN_AT] = time.time()
    if verified:
        device = user.totpdevice_set.filter(confirmed=True).first()
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session[STEP_UP_KEY] = time.time()
    session.save()
    return client


def current_totp(user) -> str:
    from django_otp.oath import totp

    device = user.totpdevice_set.filter(confirmed=True).first()
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"
