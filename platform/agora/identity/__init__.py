"""Identity and access: accounts, roles per commune, the permission policy, sign-in
(FranceConnect, ProConnect, a staff OpenID provider, magic links, TOTP), GDPR rights."""
