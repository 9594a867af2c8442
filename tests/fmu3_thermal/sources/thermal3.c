/* The thermal model of examples/fmu/thermal as an FMI 3.0 co-simulation FMU (tests only):
 *   dT/dt = (k * P - (T - T_amb)) / tau, Runge-Kutta in sub-steps of at most 0.1 s.
 * The functions a co-simulation master calls have their FMI 3.0 signatures; the rest of the
 * interface (FMPy looks every function up) are stubs that report an error. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fmi3PlatformTypes.h"
#include "fmi3FunctionTypes.h"

#define EXPORT __attribute__((visibility("default")))
#define N_VARS 7
enum { VR_TIME, VR_P, VR_T_AMB, VR_T, VR_K, VR_TAU, VR_T_START };

typedef struct { double v[N_VARS]; int initialized; } Model;

static const double DEFAULTS[N_VARS] = {0.0, 0.0, 20.0, 20.0, 0.5, 120.0, 20.0};

static double slope(const Model *m, double T) {
    return (m->v[VR_K] * m->v[VR_P] - (T - m->v[VR_T_AMB])) / m->v[VR_TAU];
}

EXPORT const char *fmi3GetVersion(void) { return "3.0"; }

EXPORT fmi3Status fmi3SetDebugLogging(fmi3Instance i, fmi3Boolean on, size_t n, const fmi3String c[]) {
    (void)i; (void)on; (void)n; (void)c; return fmi3OK;
}

EXPORT fmi3Instance fmi3InstantiateCoSimulation(
    fmi3String name, fmi3String token, fmi3String resources, fmi3Boolean visible,
    fmi3Boolean logging, fmi3Boolean eventMode, fmi3Boolean earlyReturn,
    const fmi3ValueReference required[], size_t nRequired, fmi3InstanceEnvironment env,
    fmi3LogMessageCallback log, fmi3IntermediateUpdateCallback update) {
    (void)name; (void)resources; (void)visible; (void)logging; (void)eventMode;
    (void)earlyReturn; (void)required; (void)nRequired; (void)env; (void)log; (void)update;
    if (!token || strcmp(token, "{8c4e4a5e-1f0b-4b6e-9d3e-2a7f6c1b9e03}") != 0) return NULL;
    Model *m = calloc(1, sizeof(Model));
    if (m) memcpy(m->v, DEFAULTS, sizeof(DEFAULTS));
    return m;
}

EXPORT void fmi3FreeInstance(fmi3Instance i) { free(i); }

EXPORT fmi3Status fmi3EnterInitializationMode(fmi3Instance i, fmi3Boolean tolDefined,
    fmi3Float64 tol, fmi3Float64 start, fmi3Boolean stopDefined, fmi3Float64 stop) {
    (void)tolDefined; (void)tol; (void)stopDefined; (void)stop;
    ((Model *)i)->v[VR_TIME] = start;
    return fmi3OK;
}

EXPORT fmi3Status fmi3ExitInitializationMode(fmi3Instance i) {
    Model *m = i;
    m->v[VR_T] = m->v[VR_T_START];
    m->initialized = 1;
    return m->v[VR_TAU] > 0 ? fmi3OK : fmi3Error;
}

EXPORT fmi3Status fmi3Terminate(fmi3Instance i) { (void)i; return fmi3OK; }

EXPORT fmi3Status fmi3Reset(fmi3Instance i) {
    Model *m = i;
    memcpy(m->v, DEFAULTS, sizeof(DEFAULTS));
    m->initialized = 0;
    return fmi3OK;
}

EXPORT fmi3Status fmi3GetFloat64(fmi3Instance i, const fmi3ValueReference vr[], size_t n,
                                 fmi3Float64 values[], size_t nValues) {
    Model *m = i;
    if (nValues < n) return fmi3Error;
    for (size_t k = 0; k < n; k++) {
        if (vr[k] >= N_VARS) return fmi3Error;
        values[k] = m->v[vr[k]];
    }
    return fmi3OK;
}

EXPORT fmi3Status fmi3SetFloat64(fmi3Instance i, const fmi3ValueReference vr[], size_t n,
                                 const fmi3Float64 values[], size_t nValues) {
    Model *m = i;
    if (nValues < n) return fmi3Error;
    for (size_t k = 0; k < n; k++) {
        if (vr[k] >= N_VARS || vr[k] == VR_T || vr[k] == VR_TIME) return fmi3Error;
        if (m->initialized && vr[k] != VR_P && vr[k] != VR_T_AMB) return fmi3Error;
        m->v[vr[k]] = values[k];
    }
    return fmi3OK;
}

EXPORT fmi3Status fmi3DoStep(fmi3Instance i, fmi3Float64 t, fmi3Float64 h, fmi3Boolean noSet,
                             fmi3Boolean *eventNeeded, fmi3Boolean *terminate,
                             fmi3Boolean *earlyReturn, fmi3Float64 *lastTime) {
    Model *m = i;
    (void)noSet;
    if (!m->initialized || h < 0) return fmi3Error;
    int steps = (int)ceil(h / 0.1);
    if (steps < 1) steps = 1;
    double dt = h / steps, T = m->v[VR_T];
    for (int k = 0; k < steps; k++) {
        double k1 = slope(m, T), k2 = slope(m, T + 0.5 * dt * k1);
        double k3 = slope(m, T + 0.5 * dt * k2), k4 = slope(m, T + dt * k3);
        T += dt * (k1 + 2 * k2 + 2 * k3 + k4) / 6;
    }
    m->v[VR_T] = T;
    m->v[VR_TIME] = t + h;
    *eventNeeded = fmi3False; *terminate = fmi3False; *earlyReturn = fmi3False;
    *lastTime = t + h;
    return fmi3OK;
}

/* The rest of the FMI 3.0 interface: present, never called by a co-simulation master here. */
#define STUB(name) EXPORT int name(void) { return fmi3Error; }
STUB(fmi3ActivateModelPartition)
STUB(fmi3CompletedIntegratorStep)
STUB(fmi3DeserializeFMUState)
STUB(fmi3EnterConfigurationMode)
STUB(fmi3EnterContinuousTimeMode)
STUB(fmi3EnterEventMode)
STUB(fmi3EnterStepMode)
STUB(fmi3EvaluateDiscreteStates)
STUB(fmi3ExitConfigurationMode)
STUB(fmi3FreeFMUState)
STUB(fmi3GetAdjointDerivative)
STUB(fmi3GetBinary)
STUB(fmi3GetBoolean)
STUB(fmi3GetClock)
STUB(fmi3GetContinuousStateDerivatives)
STUB(fmi3GetContinuousStates)
STUB(fmi3GetDirectionalDerivative)
STUB(fmi3GetEventIndicators)
STUB(fmi3GetFMUState)
STUB(fmi3GetFloat32)
STUB(fmi3GetInt16)
STUB(fmi3GetInt32)
STUB(fmi3GetInt64)
STUB(fmi3GetInt8)
STUB(fmi3GetIntervalDecimal)
STUB(fmi3GetIntervalFraction)
STUB(fmi3GetNominalsOfContinuousStates)
STUB(fmi3GetNumberOfContinuousStates)
STUB(fmi3GetNumberOfEventIndicators)
STUB(fmi3GetNumberOfVariableDependencies)
STUB(fmi3GetOutputDerivatives)
STUB(fmi3GetShiftDecimal)
STUB(fmi3GetShiftFraction)
STUB(fmi3GetString)
STUB(fmi3GetUInt16)
STUB(fmi3GetUInt32)
STUB(fmi3GetUInt64)
STUB(fmi3GetUInt8)
STUB(fmi3GetVariableDependencies)
STUB(fmi3InstantiateModelExchange)
STUB(fmi3InstantiateScheduledExecution)
STUB(fmi3SerializeFMUState)
STUB(fmi3SerializedFMUStateSize)
STUB(fmi3SetBinary)
STUB(fmi3SetBoolean)
STUB(fmi3SetClock)
STUB(fmi3SetContinuousStates)
STUB(fmi3SetFMUState)
STUB(fmi3SetFloat32)
STUB(fmi3SetInt16)
STUB(fmi3SetInt32)
STUB(fmi3SetInt64)
STUB(fmi3SetInt8)
STUB(fmi3SetIntervalDecimal)
STUB(fmi3SetIntervalFraction)
STUB(fmi3SetShiftDecimal)
STUB(fmi3SetShiftFraction)
STUB(fmi3SetString)
STUB(fmi3SetTime)
STUB(fmi3SetUInt16)
STUB(fmi3SetUInt32)
STUB(fmi3SetUInt64)
STUB(fmi3SetUInt8)
STUB(fmi3UpdateDiscreteStates)
