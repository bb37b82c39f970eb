"""Reporting technological-connection (ТП) cases to the state system: "GIS TP submission".

The contract is our own WSDL (gis_tp.wsdl, namespace urn:gridcase:gis-tp:1): the state system's API is
not public. `GisTpClient` sends a stage of a case to the endpoint in GIS_TP_URL and tells a rejection
(`Rejected`: do not send the same again) from a temporary failure (`Unavailable`: try again later);
`GisTpSimulator` answers the same contract on loopback for tests and the demo. No Flask, no database.
"""
from integrations.gis_tp.client import NAMESPACE, STAGES, GisTpClient, GisTpError, Rejected, Unavailable

__all__ = ["NAMESPACE", "STAGES", "GisTpClient", "GisTpError", "GisTpSimulator", "Rejected", "Unavailable"]


def __getattr__(name: str):
    # Imported on first use, so that `python -m integrations.gis_tp.simulator` does not load the module
    # twice (runpy warns when the package has already imported it).
    if name == "GisTpSimulator":
        from integrations.gis_tp.simulator import GisTpSimulator

        return GisTpSimulator
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
