"""Every setting of a deployment, in one pydantic-settings object read from `ALLFHIR_*` variables.

Nothing else reads the environment for these: the CLI and the web service build one `Settings`
and pass it down. (`environment.any_setting` only says whether there is anything to read: with
no `ALLFHIR_*` variable, `allfhir convert` takes the defaults without building it. The
data-folder overrides ALLFHIR_MAPPINGS / ALLFHIR_FHIR_PACKAGES stay with `data_paths`, which is
where the package finds its own files.)

The identifier systems belong to the lab: a LIMS names its samples and reports in its own
namespaces, so a deployment sets them; the defaults are the project's demo namespaces.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from . import codes, environment


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=environment.PREFIX, extra="ignore", frozen=True)

    data_dir: Path = Field(Path("allfhir-data"),
                           description="folder of the default SQLite database")
    database_url: str = Field("", description="SQLAlchemy URL; default: SQLite file "
                              "DATA_DIR/allfhir.db (PostgreSQL: postgresql+psycopg://...)")

    sample_id_system: str = Field(codes.NS_SAMPLE_ID, description="the lab's sample-id system")
    report_id_system: str = Field(codes.NS_REPORT_ID, description="the lab's report-id system")
    resource_id_system: str = Field(codes.NS_RESOURCE_ID,
                                    description="identifier system of the other resources")
    order_id_system: str = Field(codes.NS_ORDER_ID,
                                 description="the lab's order (ServiceRequest) identifier system")

    # The report's header (service/allfhir/report/): who issues it.
    lab_name: str = Field("Molecular Pathology Laboratory", description="the laboratory's name, "
                          "printed at the head of every report")
    lab_address: str = Field("", description="the laboratory's address under its name (one line)")

    max_body_bytes: int = Field(10 * 1024 * 1024, gt=0,
                                description="largest request body accepted (413 above)")

    base_url: str = Field("http://127.0.0.1:8080/fhir", description="this service's public FHIR "
                          "base URL: the source of the messages and deliveries it sends")

    api_keys: bool = Field(True, description="accept API keys (`allfhir apikey create`)")
    jwt_jwks: str | None = Field(None, description="JWKS file path or https URL for bearer JWTs "
                                 "(with it, jwt_issuer and jwt_audience are required)")
    jwt_issuer: str | None = Field(None, description="required `iss` of bearer JWTs")
    jwt_audience: str | None = Field(None, description="required `aud` of bearer JWTs")

    @model_validator(mode="after")
    def _jwt_claims_named(self) -> Settings:
        # a token is only as trustworthy as the claims checked: without a required iss and aud,
        # any token signed by that authorisation server (for any other API) would be accepted
        if self.jwt_jwks and not (self.jwt_issuer and self.jwt_audience):
            raise ValueError("ALLFHIR_JWT_JWKS needs ALLFHIR_JWT_ISSUER and ALLFHIR_JWT_AUDIENCE")
        return self

    @model_validator(mode="after")
    def _default_database(self) -> Settings:
        if not self.database_url:
            # frozen model: set through object.__setattr__ once, while validating
            object.__setattr__(self, "database_url",
                               f"sqlite:///{(self.data_dir / 'allfhir.db').as_posix()}")
        return self
