"""`flask --app app askue ...`: reading one meter by hand, for field staff checking a line."""
import json

import click

from askue.protocols import MeterError, MeterReading

PROTOCOLS = ("modbus", "iec61107", "mercury206", "dlms")


@click.group(help="ASKUE: meters, concentrators and ASKUE servers.")
def askue():
    pass


def _read(protocol: str, host: str, port: int, address: str, password: str | None, register_map: str,
          timeout: float, retries: int) -> MeterReading:
    if protocol == "mercury206":
        from askue.protocols.mercury206 import Mercury206Client

        if not address.isdigit():
            raise click.BadParameter("a Mercury meter's address is its serial number (digits)", param_hint="--address")
        return Mercury206Client(host, port, int(address), timeout=timeout, retries=retries).read()
    if protocol == "iec61107":
        from askue.protocols.iec61107 import Iec61107Client

        return Iec61107Client(host, port, address=address, password=password or "777777", timeout=timeout,
                              retries=retries).read()
    if protocol == "dlms":
        from askue.protocols.dlms import DlmsClient

        if not address.isdigit() or int(address) >= 2 ** 14:
            raise click.BadParameter("a DLMS meter's address is its physical address (0–16383)", param_hint="--address")
        # With a password: the reading client (SAP 32, LLS); without: the public client (SAP 16).
        return DlmsClient(host, port, int(address), password=password, timeout=timeout, retries=retries).read()
    from askue.protocols.modbus import ModbusMeterClient
    from askue.protocols.register_maps import RegisterMapError

    if not address.isdigit():
        raise click.BadParameter("a Modbus meter's address is its unit id (1–247)", param_hint="--address")
    try:
        with ModbusMeterClient(host, port, int(address), register_map, timeout=timeout, retries=retries) as client:
            return client.read()
    except (RegisterMapError, ValueError) as error:
        raise click.BadParameter(str(error), param_hint="--address/--map") from None


@askue.command("read-meter", help="Read one meter over TCP and print its serial and energy as JSON.")
@click.option("--protocol", type=click.Choice(PROTOCOLS), required=True)
@click.option("--host", required=True)
@click.option("--port", type=int, required=True)
@click.option("--address", default="",
              help="Mercury: serial; IEC 61107: the meter's address; Modbus: unit id; DLMS: physical address.")
@click.option("--password", default=None,
              help="IEC 61107: the meter's password (777777 by default); DLMS: the LLS password (none: public client).")
@click.option("--map", "register_map", default="generic_energy_meter", show_default=True,
              help="Modbus: a bundled register map's name or a JSON file.")
@click.option("--timeout", type=float, default=3.0, show_default=True, help="Seconds to wait for an answer.")
@click.option("--retries", type=int, default=2, show_default=True)
def read_meter(protocol, host, port, address, password, register_map, timeout, retries):
    # No application context is needed: this talks to the meter only, and works on a field laptop.
    try:
        reading = _read(protocol, host, port, address, password, register_map, timeout, retries)
    except MeterError as error:
        click.echo(f"{type(error).__name__}: {error}", err=True)
        raise SystemExit(2) from None
    click.echo(json.dumps({"serial": reading.serial,
                           "energy_kwh": {zone: str(value) for zone, value in reading.energy_kwh.items()},
                           "read_at": reading.read_at.isoformat(),
                           "meter_clock": reading.meter_clock.isoformat() if reading.meter_clock else None},
                          ensure_ascii=False))
