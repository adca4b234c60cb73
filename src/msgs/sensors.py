"""sensor_msgs Imu, NavSatFix, JointState and BatteryState ↔ core types of :mod:`sanqin.common.types`.

Values are carried faithfully (NaN stays NaN: judging data is the cores' job); structural problems —
a covariance of the wrong size, joint arrays whose lengths disagree — raise :class:`MessageError`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sanqin.common.types import BatteryState, GeoFix, ImuSample, JointStates
from sanqin.msgs.buffers import as_float_array
from sanqin.msgs.errors import MessageError
from sanqin.msgs.geometry import quaternion_from_msg, quaternion_to_msg, vector3_from_msg, vector3_to_msg
from sanqin.msgs.time import header_stamp_frame, make_header

#: sensor_msgs/Imu marks an absent orientation with orientation_covariance[0] == -1.
NO_ORIENTATION = -1.0


def _cov3(values: Any, where: str) -> np.ndarray:
    return as_float_array(values, f"{where} covariance (3×3)", 9).reshape(3, 3)


# --- Imu ---------------------------------------------------------------------------------------


def imu_from_msg(msg: Any) -> ImuSample:
    """sensor_msgs/Imu → :class:`ImuSample`; ``orientation_xyzw`` is None when the covariance says "none"."""
    stamp_s, frame_id = header_stamp_frame(msg.header)
    orientation_cov = _cov3(msg.orientation_covariance, "Imu.orientation")
    no_orientation = orientation_cov[0, 0] == NO_ORIENTATION
    return ImuSample(
        stamp_s=stamp_s,
        frame_id=frame_id,
        orientation_xyzw=None if no_orientation else quaternion_from_msg(msg.orientation),
        angular_velocity_rad_s=vector3_from_msg(msg.angular_velocity),
        linear_acceleration_m_s2=vector3_from_msg(msg.linear_acceleration),
        orientation_covariance=orientation_cov,
        angular_velocity_covariance=_cov3(msg.angular_velocity_covariance, "Imu.angular_velocity"),
        linear_acceleration_covariance=_cov3(msg.linear_acceleration_covariance, "Imu.linear_acceleration"),
    )


def imu_to_msg(imu: ImuSample, factory: Any) -> Any:
    """:class:`ImuSample` → sensor_msgs/Imu; no orientation → identity quaternion, covariance[0] = -1."""
    orientation_cov = _cov3(imu.orientation_covariance, "ImuSample.orientation").reshape(9)
    if imu.orientation_xyzw is None:
        orientation = (0.0, 0.0, 0.0, 1.0)
        orientation_cov[0] = NO_ORIENTATION
    else:
        orientation = imu.orientation_xyzw
        if orientation_cov[0] == NO_ORIENTATION:
            raise MessageError("ImuSample has an orientation but its covariance[0] is -1 (the 'no orientation' mark)")
    return factory.new(
        "sensor_msgs/msg/Imu",
        header=make_header(factory, imu.stamp_s, imu.frame_id),
        orientation=quaternion_to_msg(orientation, factory),
        orientation_covariance=orientation_cov,
        angular_velocity=vector3_to_msg(imu.angular_velocity_rad_s, factory),
        angular_velocity_covariance=_cov3(imu.angular_velocity_covariance, "ImuSample.angular_velocity").reshape(9),
        linear_acceleration=vector3_to_msg(imu.linear_acceleration_m_s2, factory),
        linear_acceleration_covariance=_cov3(
            imu.linear_acceleration_covariance, "ImuSample.linear_acceleration"
        ).reshape(9),
    )


# --- NavSatFix ---------------------------------------------------------------------------------


def navsat_from_msg(msg: Any) -> GeoFix:
    """sensor_msgs/NavSatFix → :class:`GeoFix` (WGS84 deg, ellipsoidal altitude m, ENU covariance m²)."""
    stamp_s, frame_id = header_stamp_frame(msg.header)
    return GeoFix(
        stamp_s=stamp_s,
        frame_id=frame_id,
        latitude_deg=float(msg.latitude),
        longitude_deg=float(msg.longitude),
        altitude_m=float(msg.altitude),
        status=int(msg.status.status),
        service=int(msg.status.service),
        position_covariance_m2=_cov3(msg.position_covariance, "NavSatFix.position"),
        covariance_type=int(msg.position_covariance_type),
    )


def navsat_to_msg(fix: GeoFix, factory: Any) -> Any:
    """:class:`GeoFix` → sensor_msgs/NavSatFix."""
    if not -128 <= int(fix.status) <= 127 or not 0 <= int(fix.service) <= 0xFFFF:
        raise MessageError(f"NavSatStatus status {fix.status} / service {fix.service} out of range")
    if not 0 <= int(fix.covariance_type) <= 255:
        raise MessageError(f"position_covariance_type {fix.covariance_type} out of range")
    return factory.new(
        "sensor_msgs/msg/NavSatFix",
        header=make_header(factory, fix.stamp_s, fix.frame_id),
        status=factory.new("sensor_msgs/msg/NavSatStatus", status=int(fix.status), service=int(fix.service)),
        latitude=float(fix.latitude_deg),
        longitude=float(fix.longitude_deg),
        altitude=float(fix.altitude_m),
        position_covariance=_cov3(fix.position_covariance_m2, "GeoFix.position").reshape(9),
        position_covariance_type=int(fix.covariance_type),
    )


# --- JointState --------------------------------------------------------------------------------


def _joint_arrays(names: tuple[str, ...], position: Any, velocity: Any, effort: Any, where: str) -> tuple:
    arrays = []
    for label, values in (("position", position), ("velocity", velocity), ("effort", effort)):
        arr = as_float_array(values, f"{where}.{label}")
        if arr.size not in (0, len(names)):
            raise MessageError(
                f"{where}.{label} has {arr.size} values for {len(names)} joints (must match or be empty)"
            )
        arrays.append(arr)
    if len(set(names)) != len(names):
        raise MessageError(f"{where} names joints more than once: {list(names)}")
    return tuple(arrays)


def joint_state_from_msg(msg: Any) -> JointStates:
    """sensor_msgs/JointState → :class:`JointStates`; each array matches the names or is empty."""
    stamp_s, frame_id = header_stamp_frame(msg.header)
    names = tuple(str(n) for n in msg.name)
    position, velocity, effort = _joint_arrays(names, msg.position, msg.velocity, msg.effort, "JointState")
    return JointStates(
        stamp_s=stamp_s, frame_id=frame_id, names=names, position=position, velocity=velocity, effort=effort
    )


def joint_state_to_msg(joints: JointStates, factory: Any) -> Any:
    """:class:`JointStates` → sensor_msgs/JointState."""
    names = tuple(str(n) for n in joints.names)
    position, velocity, effort = _joint_arrays(names, joints.position, joints.velocity, joints.effort, "JointStates")
    return factory.new(
        "sensor_msgs/msg/JointState",
        header=make_header(factory, joints.stamp_s, joints.frame_id),
        name=list(names),
        position=position,
        velocity=velocity,
        effort=effort,
    )


# --- BatteryState ------------------------------------------------------------------------------


def battery_from_msg(msg: Any) -> BatteryState:
    """sensor_msgs/BatteryState → :class:`BatteryState` (V, A, Ah, °C, fraction 0..1; NaN = not measured)."""
    stamp_s, frame_id = header_stamp_frame(msg.header)
    return BatteryState(
        stamp_s=stamp_s,
        frame_id=frame_id,
        voltage_v=float(msg.voltage),
        current_a=float(msg.current),
        charge_ah=float(msg.charge),
        capacity_ah=float(msg.capacity),
        design_capacity_ah=float(msg.design_capacity),
        percentage=float(msg.percentage),
        temperature_c=float(msg.temperature),
        power_supply_status=int(msg.power_supply_status),
        power_supply_health=int(msg.power_supply_health),
        power_supply_technology=int(msg.power_supply_technology),
        present=bool(msg.present),
        cell_voltage_v=as_float_array(msg.cell_voltage, "BatteryState.cell_voltage"),
        cell_temperature_c=as_float_array(msg.cell_temperature, "BatteryState.cell_temperature"),
        location=str(msg.location),
        serial_number=str(msg.serial_number),
    )


def battery_to_msg(battery: BatteryState, factory: Any) -> Any:
    """:class:`BatteryState` → sensor_msgs/BatteryState (float32 fields on the wire)."""
    for name in ("power_supply_status", "power_supply_health", "power_supply_technology"):
        if not 0 <= int(getattr(battery, name)) <= 255:
            raise MessageError(f"BatteryState.{name} = {getattr(battery, name)} is not a uint8 constant")
    return factory.new(
        "sensor_msgs/msg/BatteryState",
        header=make_header(factory, battery.stamp_s, battery.frame_id),
        voltage=float(battery.voltage_v),
        temperature=float(battery.temperature_c),
        current=float(battery.current_a),
        charge=float(battery.charge_ah),
        capacity=float(battery.capacity_ah),
        design_capacity=float(battery.design_capacity_ah),
        percentage=float(battery.percentage),
        power_supply_status=int(battery.power_supply_status),
        power_supply_health=int(battery.power_supply_health),
        power_supply_technology=int(battery.power_supply_technology),
        present=bool(battery.present),
        cell_voltage=as_float_array(battery.cell_voltage_v, "BatteryState.cell_voltage_v").astype(np.float32),
        cell_temperature=as_float_array(
            battery.cell_temperature_c, "BatteryState.cell_temperature_c"
        ).astype(np.float32),
        location=battery.location,
        serial_number=battery.serial_number,
    )
