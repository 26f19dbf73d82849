"""Helpers the tests share (fixtures live in conftest.py)."""

from contextlib import contextmanager


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


def sign_in_page(page, user, password: str = "correct horse battery 9") -> None:
    """Sign a Playwright page in as ``user`` (made by the make_user fixture) with password and TOTP."""
    page.goto("/accounts/sign-in/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(password)
    page.get_by_label("Authenticator code").fill(current_totp(user))
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/staff/")


@contextmanager
def local_dns_server(zone: dict):
    """A UDP DNS server on 127.0.0.1 answering from `zone` ({(name, rdtype): [values]}), read live
    so a test may change it; names absent from every key do not exist (NXDOMAIN). Yields the port."""
    import socket
    import threading

    import dns.message
    import dns.rcode
    import dns.rdatatype
    import dns.rrset

    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.2)
    stop = threading.Event()

    def serve():
        while not stop.is_set():
            try:
                data, peer = sock.recvfrom(4096)
            except TimeoutError:
                continue
            query = dns.message.from_wire(data)
            question = query.question[0]
            name = question.name.to_text().rstrip(".")
            rdtype = dns.rdatatype.to_text(question.rdtype)
            response = dns.message.make_response(query)
            if name not in {key[0] for key in zone}:
                response.set_rcode(dns.rcode.NXDOMAIN)
            elif (name, rdtype) in zone:
                response.answer.append(
                    dns.rrset.from_text(question.name, 60, "IN", rdtype, *zone[(name, rdtype)])
                )
            sock.sendto(response.to_wire(), peer)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield sock.getsockname()[1]
    finally:
        stop.set()
        thread.join()
        sock.close()


def bank_with_image(bank, image: bytes, analyst, seniors):
    """Propose the image's PDQ and MD5 and have two seniors confirm them."""
    from openmnr.banks import services

    hashes = services.hash_upload(image)
    for signal_type in ("pdq", "md5"):
        entry = services.propose_entry(
            bank,
            signal_type=signal_type,
            value=hashes[signal_type].value,
            classification="baseline",
            category="demo",
            by=analyst,
        )
        for senior in seniors:
            services.confirm_entry(entry, by=senior)
    return hashes
