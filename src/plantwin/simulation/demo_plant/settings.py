"""Settings of the demo line: every physical constant, with its source or "unverified".

Sources refer to /work/shared/DOMAIN.md sections. Reliability and bearing-wear figures are
**accelerated for the demo** (a bearing lives a few simulated days instead of months, a CNC
fails every ~20 operating hours instead of every 500-1500 h) so that run-to-failure histories
and repairs appear within hours of simulated time. Tool life is not accelerated: it follows
Taylor's law from the cutting speed, so the lathe changes a tool every ~34 parts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True, slots=True, kw_only=True)
class FailureSettings:
    """Random failures: Weibull times between failures in operating hours, log-normal repairs.

    DOMAIN 6: Weibull beta 1-1.5 for TBF, log-normal repair times (unverified). The MTBF/MTTR
    values are demo-scale (accelerated 25-75x against DOMAIN's 500-1500 h for CNCs).
    """

    mtbf_h: float
    mttr_h: float
    shape: float = 1.2
    repair_sigma: float = 0.6
    causes: tuple[str, ...] = ("fault",)


@dataclass(frozen=True, slots=True, kw_only=True)
class MaintenanceSettings:
    """Planned maintenance on a calendar schedule; taken when the machine is next idle."""

    interval_h: float = 24.0
    duration_h: float = 0.75
    first_h: float = 20.0


@dataclass(frozen=True, slots=True, kw_only=True)
class BearingSettings:
    """Spindle bearing: healthy until a Weibull onset, then v0 + a(exp((t - t0)/tau) - 1).

    DOMAIN 3.2 (Gebraeel-style exponential growth, 5-10 % multiplicative noise, unverified).
    Ages count spindle running hours at the nominal speed (bearing life is in revolutions).
    Demo scale: onset after ~53 h, growth to failure ~18 h; real P-F intervals are weeks.

    Why the bearing fails at 7.1 mm/s although DOMAIN 7 alarms at 4.5 mm/s: 4.5 mm/s is the
    C/D boundary of ISO 10816-3 group 2 *rigid* (15-300 kW; the spindles are 15 and
    18.5 kW), the level at which the twin should alarm, not the level at which the spindle
    stops. Functional failure is set later, at 7.1 mm/s (the C/D boundary of group 2
    flexible / group 1 rigid), so the alarm leads the failure: with the mean growth
    parameters 4.5 -> 7.1 mm/s takes tau ln((7.1 - v0 + a)/(4.5 - v0 + a)) ~3 spindle
    hours (~4 operating hours), and the 2.8 mm/s warning ~7 spindle hours, the window
    predictive maintenance needs. Machine-tool spindles are judged against OEM limits,
    not the ISO table (DOMAIN 3.1), so 7.1 mm/s is a plausible, unverified failure level.
    """

    v0_mm_s: float = 1.0
    v0_sd_mm_s: float = 0.1
    onset_eta_h: float = 60.0
    onset_shape: float = 2.0
    growth_a_mm_s: float = 0.3
    a_sigma: float = 0.3
    growth_tau_h: float = 6.0
    tau_sigma: float = 0.2
    failure_mm_s: float = 7.1
    noise_rel: float = 0.07
    mttr_h: float = 2.5  # bearing replacement (unverified)
    repair_sigma: float = 0.3

    def mean_life_h(self) -> float:
        """Expected running hours from new to failure (Gauss-Hermite over a and tau)."""
        nodes, weights = np.polynomial.hermite_e.hermegauss(24)
        weights = weights / weights.sum()
        a = self.growth_a_mm_s * np.exp(self.a_sigma * nodes - self.a_sigma**2 / 2)
        tau = self.growth_tau_h * np.exp(self.tau_sigma * nodes - self.tau_sigma**2 / 2)
        rise = self.failure_mm_s - self.v0_mm_s
        growth = np.outer(np.log1p(rise / a), tau)  # [a, tau] grid
        mean_growth = float(weights @ growth @ weights)
        onset = self.onset_eta_h * math.gamma(1 + 1 / self.onset_shape)
        return onset + mean_growth


@dataclass(frozen=True, slots=True, kw_only=True)
class ToolSettings:
    """Flank wear VB(t) = VBb(1 - e^(-t/tb)) + k t + c(e^((t - tr)/taur) - 1) (DOMAIN 4).

    ``t`` is equivalent cutting minutes at the reference speed and feed. The tool life at
    the reference cutting speed follows Taylor, V T^n = C (DOMAIN 4: cemented carbide in
    steel, n 0.25, C ~500 m/min, unverified), and the same law, extended to
    V T^n f^m = K (m unverified), scales wear with the speed and feed overrides.
    ``k`` is set so VB = 0.3 mm at the life (ISO 3685 criterion). Parameters unverified.

    ``change_parts`` plans the change at ~0.9 of the mean life, so most tools come out
    below VB 0.3 mm, while the faster-wearing ones (``rate_sigma``) pass it and cut a few
    parts out of tolerance before the change.
    """

    cutting_speed_m_min: float  # v_c at the nominal spindle speed, reference of the life
    taylor_c_m_min: float = 500.0  # DOMAIN 4: carbide in steel (Groover, unverified)
    taylor_n: float = 0.25  # DOMAIN 4: carbide 0.2-0.3
    feed_m: float = 0.3
    vb_break_in_mm: float = 0.07
    break_in_min: float = 3.0
    rapid_start: float = 0.8  # share of life where accelerating wear starts
    rapid_tau: float = 0.12  # e-folding of the accelerating phase, share of life
    rapid_c_mm: float = 0.01
    rate_sigma: float = 0.15  # log-normal spread of the per-tool wear rate
    change_parts: int  # planned tool change, parts per tool
    wear_limit_mm: float = 0.4  # tool monitoring forces an early change (unverified)
    setup_min: float = 4.0
    setup_sigma: float = 0.25
    clearance_deg: float = 6.0  # alpha: dimension moves by 2 VB tan(alpha) (DOMAIN 4)

    @property
    def life_min(self) -> float:
        """Taylor tool life at the reference cutting speed: T = (C / V)^(1/n) minutes."""
        return float((self.taylor_c_m_min / self.cutting_speed_m_min) ** (1.0 / self.taylor_n))

    def slope_mm_per_min(self) -> float:
        """The linear wear rate ``k`` that puts VB at 0.3 mm after ``life_min``."""
        life = self.life_min
        break_in = self.vb_break_in_mm * (1 - math.exp(-life / self.break_in_min))
        rapid = self.rapid_c_mm * (math.exp((1 - self.rapid_start) / self.rapid_tau) - 1)
        return (0.3 - break_in - rapid) / life


@dataclass(frozen=True, slots=True, kw_only=True)
class QualitySettings:
    """The dimension a machine makes: nominal, set-up bias, process spread, wear direction.

    Nominals and tolerance from the plant file's CMM (40.000 / 12.000 mm, +-0.050 mm). The
    bias sets a fresh tool on the side the wear moves away from, as shops do (unverified).
    """

    nominal_mm: float
    bias_mm: float
    sigma_mm: float = 0.006
    wear_sign: float = 1.0  # +1: dimension grows with wear (turned OD); -1: shrinks (slot)
    defect_p: float = 0.0025  # random defects (clamping, chips) per part
    defect_mm: tuple[float, float] = (0.06, 0.15)


@dataclass(frozen=True, slots=True, kw_only=True)
class CncSettings:
    """A CNC machine: cycle, spindle, power, air, tool, bearing, reliability."""

    load_s: float
    cut_s: float  # nominal cutting time per part at 100 % feed and nominal speed
    unload_s: float
    cycle_sigma: float = 0.03
    speed_rpm: float
    rated_kw: float
    cut_kw: float  # spindle input power while cutting with a sharp tool (Sandvik formula)
    spin_kw: float = 0.8  # spindle running free (unverified)
    base_kw: float = 2.5  # "ready" load: control, drives, hydraulics (DOMAIN 5: 1-5 kW)
    aux_kw: float = 1.2  # coolant pump and chip conveyor while running (unverified)
    air_run: float = 0.5  # m3/min FAD (unverified)
    air_idle: float = 0.1
    air_setup: float = 1.0
    coolant_k_per_kw: float = 0.8  # coolant tank rise per kW cutting (unverified)
    coolant_tau_min: float = 40.0
    bearing_tau_min: float = 10.0
    rise_speed_k: float = 8.0  # bearing rise at nominal speed, healthy (DOMAIN 3.3, unverified)
    rise_load_k: float = 6.0  # at rated power
    rise_wear_k: float = 15.0  # at the failure vibration
    tool_vib_mm_s: float = 0.2  # cutting excitation at VB 0.3 mm (unverified)
    quality: QualitySettings
    tool: ToolSettings
    bearing: BearingSettings = BearingSettings()
    failures: FailureSettings
    maintenance: MaintenanceSettings = MaintenanceSettings()


@dataclass(frozen=True, slots=True, kw_only=True)
class WasherSettings:
    """Spray washer: 400 L tank held at 60 C by a heater, spray pump, air blow-off.

    DOMAIN 5 (unverified): parts washers 10-30 kW, mostly tank heaters; pumps 2-7 kW.
    The figures sit on the fields below, so text and values cannot drift apart.
    """

    load_s: float = 3.0
    wash_s: float = 35.0
    blow_s: float = 17.0
    unload_s: float = 5.0
    tank_c_kj_per_k: float = 1674.0  # 400 L water * 4.186 kJ/(kg K)
    loss_kw_per_k: float = 0.08
    spray_loss_kw: float = 6.0  # evaporation while spraying
    heater_kw: float = 18.0  # tank heater
    setpoint_c: float = 60.0
    hysteresis_k: float = 1.0
    min_temp_c: float = 50.0
    pump_kw: float = 4.5  # spray pump input while washing
    base_kw: float = 0.6
    air_blow: float = 1.5
    failures: FailureSettings = FailureSettings(
        mtbf_h=30.0, mttr_h=0.5, causes=("pump seal leak", "nozzle clog", "heater contactor")
    )
    maintenance: MaintenanceSettings = MaintenanceSettings(first_h=22.0, duration_h=0.5)


@dataclass(frozen=True, slots=True, kw_only=True)
class CmmSettings:
    """CMM: 80 s per part, 1-3 kW plus air bearings (DOMAIN 5, unverified)."""

    load_s: float = 10.0
    measure_s: float = 60.0
    unload_s: float = 10.0
    tolerance_mm: float = 0.050
    probe_sigma_mm: float = 0.0015  # measurement spread (unverified)
    base_kw: float = 1.2
    drive_kw: float = 0.6
    air: float = 0.15
    failures: FailureSettings = FailureSettings(
        mtbf_h=40.0, mttr_h=0.5, causes=("probe crash", "air bearing fault", "controller")
    )
    maintenance: MaintenanceSettings = MaintenanceSettings(first_h=23.0, duration_h=0.5)


@dataclass(frozen=True, slots=True, kw_only=True)
class ConveyorSettings:
    """Accumulating roller conveyor with one drive (DOMAIN 5: 0.25-1.5 kW, unverified)."""

    capacity: int = 8
    travel_s: int = 15
    power_kw: float = 0.45  # drive input while the rollers turn
    current_mag_a: float = 0.6  # magnetising current dominates at light load (DOMAIN 5)
    failures: FailureSettings = FailureSettings(
        mtbf_h=10.0, mttr_h=0.25, causes=("jam", "photo-eye fault")
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class SupplySettings:
    """Raw parts are brought to the infeed when it runs low."""

    refill_level: int = 3
    delay_min: float = 3.0
    delay_sigma: float = 0.5


@dataclass(frozen=True, slots=True, kw_only=True)
class CompressorSettings:
    """Oil-injected screw compressor, GA 37 class (DOMAIN 5)."""

    rated_flow: float = 6.6  # m3/min FAD at 7 bar (plant file)
    loaded_kw: float = 42.0  # -> 6.4 kW/(m3/min), DOMAIN 5: 5-7
    unloaded_share: float = 0.3  # DOMAIN 5: 25-35 % (unverified)
    kw_per_bar: float = 0.072  # +2 psi ~ +1 % energy (DOMAIN 5, unverified)
    setpoint_bar: float = 7.0
    band_bar: float = 0.5
    run_on_s: int = 360  # unloaded this long -> motor stops (unverified)
    volume_m3: float = 4.0  # receiver plus header (unverified)
    leak_flow: float = 0.9  # m3/min at 7 bar, ~15 % of demand (DOMAIN 5: typical 20-30 %)
    other_demand: float = 2.2  # rest of the site, m3/min (unverified)
    other_demand_day: float = 0.8  # extra in the day shift
    min_machine_bar: float = 5.5  # machines' pressure switches (unverified)
    temp_rise_loaded_k: float = 60.0
    temp_rise_unloaded_k: float = 48.0
    failures: FailureSettings = FailureSettings(
        mtbf_h=120.0, mttr_h=1.5, causes=("high discharge temperature", "motor overload")
    )
    maintenance: MaintenanceSettings = MaintenanceSettings(
        interval_h=168.0, duration_h=1.0, first_h=100.0
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class SiteSettings:
    """Weather and the rest of the site; local time comes from the plant file's time zone."""

    ambient_c: float = 22.0
    ambient_swing_k: float = 3.0
    base_kw: float = 30.0  # lighting, HVAC, offices (unverified)
    base_day_kw: float = 15.0
    volts: float = 400.0  # DOMAIN 5
    power_factor: float = 0.85

    def line_amps(self, kw: float) -> float:
        """Line current of a three-phase load taking ``kw`` of active power, A."""
        return kw * 1000.0 / (math.sqrt(3) * self.volts * self.power_factor)


MILL = CncSettings(
    load_s=9.0,
    cut_s=72.0,
    unload_s=9.0,
    speed_rpm=3000.0,
    rated_kw=18.5,
    # k_c 2060 N/mm2 (medium-carbon steel) x 200 cm3/min / 60 000 / eta 0.8 (DOMAIN 5)
    cut_kw=8.6,
    quality=QualitySettings(nominal_mm=12.0, bias_mm=0.025, wear_sign=-1.0),
    # 12 mm carbide end mill cutting the 12 mm slot: v_c = pi 12 mm 3000 /1000 = 113 m/min,
    # Taylor life (500 / 113)^4 = 382 min (turning figures applied to milling, unverified);
    # 1.2 cutting min per part -> ~318 parts; planned change at 0.88 of that
    tool=ToolSettings(cutting_speed_m_min=math.pi * 12.0 * 3000.0 / 1000.0, change_parts=280),
    failures=FailureSettings(
        mtbf_h=20.0,
        mttr_h=0.8,
        causes=("spindle drive fault", "axis servo alarm", "tool clamp", "coolant pump"),
    ),
    maintenance=MaintenanceSettings(first_h=20.0),
)

LATHE = CncSettings(
    load_s=8.0,
    cut_s=60.0,
    unload_s=7.0,
    speed_rpm=1600.0,  # v_c = pi 40 mm 1600 /1000 = 201 m/min
    rated_kw=15.0,
    # k_c 2060 x v_c 200 m/min x a_p 3 mm x f 0.25 mm / 60 000 / eta 0.8 (DOMAIN 5)
    cut_kw=6.4,
    base_kw=2.0,
    air_run=0.35,
    quality=QualitySettings(nominal_mm=40.0, bias_mm=-0.025, wear_sign=1.0),
    # Taylor life (500 / 201)^4 = 38 min (DOMAIN 4); 1 cutting min per part -> ~38 parts;
    # planned change at 0.89 of that
    tool=ToolSettings(cutting_speed_m_min=math.pi * 40.0 * 1600.0 / 1000.0, change_parts=34),
    failures=FailureSettings(
        mtbf_h=20.0,
        mttr_h=0.75,
        causes=("turret index fault", "chuck pressure", "lubrication", "control fault"),
    ),
    maintenance=MaintenanceSettings(first_h=21.0),
)

CNC_ASSETS = ("mill1", "lathe1")
CONVEYOR_ASSETS = ("buf_in", "buf_ml", "buf_lw", "buf_wc")


@dataclass(frozen=True, slots=True, kw_only=True)
class DemoSettings:
    """All settings of the demo line; defaults give a technical availability of 0.9-1.0."""

    mill: CncSettings = MILL
    lathe: CncSettings = LATHE
    washer: WasherSettings = WasherSettings()
    cmm: CmmSettings = CmmSettings()
    conveyor: ConveyorSettings = ConveyorSettings()
    supply: SupplySettings = SupplySettings()
    compressor: CompressorSettings = CompressorSettings()
    site: SiteSettings = SiteSettings()
    auto_reset: bool = True  # a repaired machine resets itself; else it waits for reset_fault
    heartbeat_s: int = 60  # states, counters and levels are re-sent this often
    noise_block: int = field(default=1024, repr=False)

    def failure_modes(self, asset: str) -> list[tuple[float, float]]:
        """(mean operating hours between failures, mean hours down) of each failure mode."""
        if asset in CNC_ASSETS:
            cnc = self.mill if asset == "mill1" else self.lathe
            bearing = cnc.bearing
            # the bearing ages only while the spindle turns: the cutting share of a cycle
            spinning = cnc.cut_s / (cnc.load_s + cnc.cut_s + cnc.unload_s)
            return [
                (cnc.failures.mtbf_h, cnc.failures.mttr_h),
                (bearing.mean_life_h() / spinning, bearing.mttr_h),
            ]
        random_only = dict.fromkeys(CONVEYOR_ASSETS, self.conveyor.failures) | {
            "washer1": self.washer.failures,
            "cmm1": self.cmm.failures,
            "compressor1": self.compressor.failures,
        }
        if asset not in random_only:
            msg = f"no failure model for asset {asset!r}"
            raise KeyError(msg)
        return [(random_only[asset].mtbf_h, random_only[asset].mttr_h)]

    def implied_availability(self, asset: str, utilization: float = 1.0) -> float:
        """Share of unplanned time (calendar minus planned maintenance) the asset is not down.

        Failure clocks run on operating time (ISO 22400: TBF is operating time), so a machine
        that operates ``utilization`` of its up time is down
        ``utilization * sum(MTTR_i / MTBF_i)`` hours per up hour. Bearing lives count spindle
        hours, converted with the cutting share of a cycle at 100 % feed (setup, a few
        percent of operating time, is counted as if the spindle turned).
        """
        ratio = sum(mttr / mtbf for mtbf, mttr in self.failure_modes(asset))
        return 1.0 / (1.0 + utilization * ratio)
