"""Print the current TOTP code of each demo user, so the demo can be tried without a phone."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from openmnr.web.demo import demo_users


class Command(BaseCommand):
    help = "Print the current TOTP code of each demo user (demo only)."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("demo only: set OPENMNR_DEBUG=1")
        for username, _role in demo_users():
            device = TOTPDevice.objects.filter(user__username=username, confirmed=True).first()
            if device is not None:
                code = totp(device.bin_key, device.step, device.t0, device.digits, device.drift)
                self.stdout.write(f"{username:22} {code:0{device.digits}d}")
