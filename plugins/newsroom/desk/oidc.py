"""Single sign-on with OpenID Connect (Authlib for the code flow with PKCE, joserfc for the ID token).

Any provider that publishes /.well-known/openid-configuration works (a city's Entra ID, Keycloak...). The role
comes from a claim (groups by default) through NEWSROOM_DESK_OIDC_ROLES ('desk-writers=writer, ...'); someone the
mapping gives no role is not let in. The state, nonce and PKCE verifier wait in the desk's database (the state
also in a cookie of the browser that started, so a sign-in cannot be pushed into another browser).
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx2
from authlib.common.security import generate_token
from authlib.integrations.httpx_client import AsyncOAuth2Client
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from newsroom.desk import accounts
from newsroom.mail import store

STATE_COOKIE = "desk_oidc_state"
WAIT = timedelta(minutes=10)


class SignOnError(Exception):
    """Single sign-on did not give a usable answer; the message says what to tell the user or the operator."""


@dataclass(frozen=True)
class Config:
    issuer: str
    client_id: str
    client_secret: str
    redirect_uri: str
    role_claim: str
    roles: dict[str, str]

    @classmethod
    def from_settings(cls, settings: dict) -> Config | None:
        issuer = settings.get("NEWSROOM_DESK_OIDC_ISSUER")
        if not issuer:
            return None
        roles = {}
        for part in filter(str.strip, str(settings["NEWSROOM_DESK_OIDC_ROLES"]).split(",")):
            value, sep, role = (p.strip() for p in part.partition("="))
            if not sep or role not in accounts.ROLES:
                raise SignOnError(
                    f"NEWSROOM_DESK_OIDC_ROLES: '{part.strip()}' is not 'claim-value=role' with a role of "
                    f"{', '.join(accounts.ROLES)}"
                )
            roles[value] = role
        if not settings.get("NEWSROOM_DESK_OIDC_CLIENT_ID"):
            raise SignOnError("NEWSROOM_DESK_OIDC_ISSUER is set but NEWSROOM_DESK_OIDC_CLIENT_ID is not")
        return cls(
            issuer=str(issuer).rstrip("/"),
            client_id=str(settings["NEWSROOM_DESK_OIDC_CLIENT_ID"]),
            client_secret=str(settings.get("NEWSROOM_DESK_OIDC_CLIENT_SECRET") or ""),
            redirect_uri=f"{str(settings['NEWSROOM_DESK_URL']).rstrip('/')}/login/oidc/callback",
            role_claim=str(settings["NEWSROOM_DESK_OIDC_ROLE_CLAIM"]),
            roles=roles,
        )


class SignOn:
    def __init__(self, config: Config):
        self.config = config
        self._metadata: dict | None = None

    async def metadata(self) -> dict:
        if self._metadata is None:
            try:
                async with httpx2.AsyncClient(timeout=10) as client:
                    answer = await client.get(f"{self.config.issuer}/.well-known/openid-configuration")
                    answer.raise_for_status()
                    self._metadata = answer.json()
            except (httpx2.HTTPError, ValueError) as exc:
                raise SignOnError(f"the sign-on provider {self.config.issuer} did not answer: {exc}") from None
        return self._metadata

    def _client(self) -> AsyncOAuth2Client:
        return AsyncOAuth2Client(
            self.config.client_id,
            self.config.client_secret,
            scope="openid email profile groups" if self.config.role_claim == "groups" else "openid email profile",
            redirect_uri=self.config.redirect_uri,
            code_challenge_method="S256",
            timeout=10,
        )

    async def start(self, conn: sqlite3.Connection, next_page: str, now: datetime) -> tuple[str, str]:
        """The provider's sign-in address and the state to keep in the browser's cookie."""
        meta = await self.metadata()
        nonce, verifier = generate_token(32), generate_token(48)
        async with self._client() as client:
            url, state = client.create_authorization_url(
                meta["authorization_endpoint"], nonce=nonce, code_verifier=verifier
            )
        with store.transaction(conn):
            conn.execute("DELETE FROM oidc_logins WHERE expires_at <= ?", (store.stamp(now),))
            conn.execute(
                "INSERT INTO oidc_logins (state_hash, nonce, verifier, next, expires_at) VALUES (?, ?, ?, ?, ?)",
                (store.token_hash(state), nonce, verifier, next_page, store.stamp(now + WAIT)),
            )
        return url, state

    async def finish(
        self, conn: sqlite3.Connection, state: str, cookie_state: str | None, code: str, now: datetime
    ) -> tuple[accounts.User, str]:
        """The signed-in user (created or updated from the claims) and the page they were going to."""
        if not state or state != cookie_state:
            raise SignOnError("state")
        with store.transaction(conn):
            row = conn.execute(
                "SELECT * FROM oidc_logins WHERE state_hash = ? AND expires_at > ?",
                (store.token_hash(state), store.stamp(now)),
            ).fetchone()
            conn.execute("DELETE FROM oidc_logins WHERE state_hash = ?", (store.token_hash(state),))
        if row is None:
            raise SignOnError("state")
        meta = await self.metadata()
        try:
            async with self._client() as client:
                token = await client.fetch_token(
                    meta["token_endpoint"], code=code, code_verifier=row["verifier"], state=state
                )
                claims = self._verified(token.get("id_token", ""), await self._keys(client, meta), row["nonce"], now)
                info = await client.get(meta["userinfo_endpoint"])
                info.raise_for_status()
                userinfo = info.json()
        except (httpx2.HTTPError, ValueError, KeyError, JoseError) as exc:
            raise SignOnError(f"the sign-on provider's answer was refused: {exc}") from None
        if userinfo.get("sub") != claims["sub"]:
            raise SignOnError("the provider's user information is for someone else than its ID token")
        claims = {**userinfo, **claims}
        role = self.role(claims)
        if role is None:
            raise SignOnError("no-role")
        username = _username(claims)
        user = accounts.upsert_oidc(
            conn, username, str(claims.get("name", "")), str(claims.get("email", "")), role, now
        )
        return user, row["next"]

    @staticmethod
    async def _keys(client: AsyncOAuth2Client, meta: dict) -> KeySet:
        answer = await client.get(meta["jwks_uri"])
        answer.raise_for_status()
        return KeySet.import_key_set(answer.json())

    def _verified(self, id_token: str, keys: KeySet, nonce: str, now: datetime) -> dict:
        token = jwt.decode(id_token, keys)
        registry = jwt.JWTClaimsRegistry(
            now=int(now.timestamp()),
            leeway=60,
            iss={"essential": True, "value": self.config.issuer},
            aud={"essential": True, "value": self.config.client_id},
            sub={"essential": True},
            exp={"essential": True},
            nonce={"essential": True, "value": nonce},
        )
        registry.validate(token.claims)
        return dict(token.claims)

    def role(self, claims: dict) -> str | None:
        """The highest role any of the claim's values maps to."""
        values = claims.get(self.config.role_claim) or []
        values = [values] if isinstance(values, str) else list(values)
        roles = [self.config.roles[v] for v in map(str, values) if v in self.config.roles]
        return max(roles, key=accounts.RANK.__getitem__, default=None)


def _username(claims: dict) -> str:
    for candidate in (claims.get("preferred_username"), str(claims.get("email", "")).split("@")[0], claims["sub"]):
        name = re.sub(r"[^a-z0-9._-]", "-", str(candidate or "").lower()).strip("-._")[:40]
        if len(name) >= 2:
            return name
    raise SignOnError("the provider gave no usable user name")
