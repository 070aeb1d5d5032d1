import glob
import json
import os
import statistics as st

B = os.path.dirname(os.path.abspath(__file__)) + "/"


def mmm(xs, fmt="{:.2f}"):
    xs = sorted(xs)
    return " / ".join(fmt.format(x) for x in (xs[0], st.median(xs), xs[-1]))


def load(pat):
    return [json.load(open(f)) for f in sorted(glob.glob(B + pat))]


wr = load("wr?.json")
lp = load("lp?.json")
for name, runs in (("short-poll", wr), ("long-poll", lp)):
    print("==", name, "load", [r["load_average"][0] for r in runs])
    c = [r["cpu_ms_per_callback"] for r in runs]
    for k in (
        "webhook-ingress",
        "flow-runner",
        "tansu",
        "redis",
        "ingress+flow-runner",
        "net_ingress+flow-runner",
        "stack",
        "net_stack",
    ):
        print(k, mmm([x[k] for x in c]))
    print("idle", mmm([r["idle_cpu_percent"]["total_percent_of_a_core"] for r in runs], "{:.1f}"))
    print("idle tansu", mmm([r["idle_cpu_percent"]["tansu"] for r in runs], "{:.1f}"))
    for i, rate in enumerate(r0["offered_per_s"] for r0 in runs[0]["results"]["pipeline"]):
        for path in ("pipeline", "baseline_in_process"):
            rs = [r["results"][path][i] for r in runs if path in r["results"]]
            if not rs:
                continue
            print(
                path,
                rate,
                "ach",
                mmm([x["achieved_per_s"] for x in rs], "{:.1f}"),
                "p50",
                mmm([x["p50_ms"] for x in rs], "{:.1f}"),
                "p95",
                mmm([x["p95_ms"] for x in rs], "{:.1f}"),
                "p99",
                mmm([x["p99_ms"] for x in rs], "{:.1f}"),
                "fb",
                [x["fallbacks"] for x in rs],
                "err",
                [x["errors"] for x in rs],
            )
fe = load("fe?.json")
print(
    "fe steps",
    mmm([r["engine_only"]["steps_per_s_one_core"] for r in fe], "{:,.0f}"),
    "p99",
    mmm([r["engine_only"]["p99_ms"] for r in fe], "{:.3f}"),
    "io p99",
    mmm([r["with_state_io"]["p99_ms"] for r in fe], "{:.3f}"),
)
sat = load("sat?.json")
if sat:
    for i, rate in enumerate(r0["offered_per_s"] for r0 in sat[0]["results"]["pipeline"]):
        for path in ("pipeline", "baseline_in_process"):
            rs = [r["results"][path][i] for r in sat]
            print(
                "sat",
                path,
                rate,
                "ach",
                mmm([x["achieved_per_s"] for x in rs], "{:.1f}"),
                "p50",
                mmm([x["p50_ms"] for x in rs], "{:.1f}"),
                "p99",
                mmm([x["p99_ms"] for x in rs], "{:.1f}"),
                "fb",
                [x["fallbacks"] for x in rs],
            )
cc = load("cc?.json")
for r in cc:
    print("cc", json.dumps(r)[:600])
