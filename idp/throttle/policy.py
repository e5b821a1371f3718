"""The rules of password sign-in, decided before a password is hashed.

- **Per account and client address**: ``free_failures`` wrong passwords, then each further attempt
  from that address must wait 1, 2, 4, ... seconds after the last failure, up to ``max_delay``.
  This is what slows a guesser, and it only slows *that* address: the owner elsewhere is not
  held up, so the delay cannot be used to lock anyone out.
- **Per account, from anywhere**: the same growing delay after ``account_free_failures`` (many
  more), against guessing spread over many addresses. It does not apply to an address the person
  has signed in from before (the caller says, from the sign-in history), so a distributed attack
  slows only sign-in from new places; passkeys are never counted here at all.
- **Per client address**: at most ``address_limit`` password attempts a minute that do not
  succeed (a success gives its attempt back), over all numbers: a credential-stuffing flood from
  one address is refused without a hash, while a shared address of real users, who mostly get
  their password right, is not.

Failures are remembered ``memory`` seconds after the last one; a success forgets the account's.
The account and pair counters only count passwords actually checked and found wrong; a refused
attempt changes nothing but the address window, so it neither costs a hash nor lengthens anyone's
delay. Counters are keyed on the number's HMAC index, registered or not, so an unknown number
goes through exactly the same states as a known one.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from idp.throttle.counters import Count, Counters
from idp.throttle.keys import account_key, address_key, pair_key

#: The per-address cap counts over fixed one-minute windows.
ADDRESS_WINDOW_MS = 60_000
#: Addresses a process remembers as over their cap; beyond this many the expired ones go.
REMEMBERED_ADDRESSES = 65_536


@dataclass(frozen=True)
class ThrottlePolicy:
    free_failures: int
    account_free_failures: int
    max_delay: int
    address_limit: int
    memory: int


@dataclass(frozen=True)
class Refusal:
    """Come back in ``retry_after`` seconds (RFC 9110 10.2.3 Retry-After)."""

    retry_after: int
    #: This process already refused the address in this window (the gate logs the first only).
    repeated: bool = False


@dataclass(frozen=True)
class Attempt:
    """A password check the throttle let through; the caller reports how it ended."""

    account: str
    pair: str
    address: str


def delay_ms(failures: int, free: int, cap_seconds: int) -> int:
    """0 for the first ``free`` failures, then 1 s doubling with each one, up to the cap."""
    if failures < free:
        return 0
    return min(cap_seconds, 1 << min(failures - free, 30)) * 1000


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def _refusal(until_ms: int, now: int) -> Refusal:
    return Refusal(max(1, math.ceil((until_ms - now) / 1000)))


class LoginThrottle:
    def __init__(self, counters: Counters, policy: ThrottlePolicy) -> None:
        self.counters = counters
        self.policy = policy
        #: Address key -> end of the window it used up. Once an address is over its cap every
        #: gate refuses it, so nothing can lower its count before the window ends: remembering
        #: it in the process is exact, and a flood's refusals cost no counter read.
        self._over_cap: dict[str, int] = {}

    def admit(self, number_index: str, address: str, recognised: bool) -> Attempt | Refusal:
        """May this password attempt be checked? ``address`` is the client's digest;
        ``recognised``: this address has signed in to this account before."""
        attempt = Attempt(
            account_key(number_index), pair_key(number_index, address), address_key(address)
        )
        now = now_ms()
        window = self.counters.add(attempt.address, 1, ADDRESS_WINDOW_MS, now, sliding=False)
        if window.count > self.policy.address_limit:
            return _refusal(window.expires_ms, now)
        found = self.counters.peek([attempt.pair, attempt.account], now)
        until = self._until(found.get(attempt.pair), self.policy.free_failures)
        if not recognised:
            account = self._until(found.get(attempt.account), self.policy.account_free_failures)
            until = max(until, account)
        return _refusal(until, now) if until > now else attempt

    def address_refusal(self, address: str) -> Refusal | None:
        """Refused without counting: this address has used up its minute (checked in front of
        the application, ``idp.web.address_gate``)."""
        now = now_ms()
        key = address_key(address)
        until = self._over_cap.get(key, 0)
        if until > now:
            return Refusal(_refusal(until, now).retry_after, repeated=True)
        window = self.counters.peek([key], now).get(key)
        if window is None or window.count < self.policy.address_limit:
            return None
        self._remember(key, window.expires_ms, now)
        return _refusal(window.expires_ms, now)

    def _remember(self, key: str, until: int, now: int) -> None:
        if len(self._over_cap) >= REMEMBERED_ADDRESSES:
            for stale in [k for k, end in self._over_cap.items() if end <= now]:
                del self._over_cap[stale]
            if len(self._over_cap) >= REMEMBERED_ADDRESSES:
                self._over_cap.clear()
        self._over_cap[key] = until

    def _until(self, found: Count | None, free: int) -> int:
        delay = delay_ms(found.count, free, self.policy.max_delay) if found else 0
        # No delay, no wait: a failure recorded by another request after this one read the clock
        # must not refuse it.
        return found.last_ms + delay if found and delay else 0

    def failed(self, attempt: Attempt) -> int:
        """Count a wrong password; the account's failures so far."""
        memory = self.policy.memory * 1000
        now = now_ms()
        self.counters.add(attempt.pair, 1, memory, now, sliding=True)
        return self.counters.add(attempt.account, 1, memory, now, sliding=True).count

    def forget_failures(self, number_index: str) -> None:
        """Support's unlock: the number's failures, from everywhere and from each address, go."""
        self.counters.reset([account_key(number_index)])
        self.counters.reset_prefix(pair_key(number_index, ""))

    def succeeded(self, attempt: Attempt) -> None:
        self.counters.reset([attempt.pair, attempt.account])
        self.counters.add(attempt.address, -1, ADDRESS_WINDOW_MS, now_ms(), sliding=False)
