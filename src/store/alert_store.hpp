#pragma once
// Alerts in the store (docs/alerts.md): the alerts themselves (fired once per rule and subject,
// resolved when their condition clears; a failed run is an event), a delivery per sink with its
// retry state, and what the evaluator remembers between passes (rule watermarks, the progress
// of running runs, host probes). Every write that decides something is one BEGIN IMMEDIATE
// transaction over unique keys, so two processes evaluating at once fire an alert once.

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "store/database.hpp"

namespace cosmos::store {

struct AlertRecord {
    std::int64_t id = 0;
    std::string rule;
    std::string condition;
    std::string subject;  // a run id, a host name or "queue"
    std::string state;    // firing | resolved | event
    std::optional<std::string> host;
    std::optional<std::string> run_id;
    std::string summary;
    std::string fired_at;
    std::optional<std::string> resolved_at;
};

// What a rule found true now for one subject.
struct AlertFinding {
    std::string subject;
    std::optional<std::string> host;
    std::optional<std::string> run_id;
    std::string summary;  // already free of secrets
};

// Fires `f` for `rule` unless an alert of that rule and subject is already firing (or, for an
// event, was ever recorded): inserts the alert and a pending delivery per sink in one
// transaction. Returns the new alert, or nullopt when it already existed.
core::Result<std::optional<AlertRecord>> fire_alert(const Database& db,
                                                    const std::string& rule,
                                                    const std::string& condition,
                                                    bool event,
                                                    const AlertFinding& f,
                                                    const std::vector<std::string>& sinks,
                                                    std::int64_t now_ms);

// Resolves every firing alert of `rule` whose subject is not in `still_true`, queueing a
// "resolved" delivery per sink (none when `sinks` is empty). Returns the alerts resolved.
core::Result<std::vector<AlertRecord>> resolve_alerts(const Database& db,
                                                      const std::string& rule,
                                                      const std::set<std::string>& still_true,
                                                      const std::vector<std::string>& sinks,
                                                      std::int64_t now_ms);

// Resolves, without deliveries, the firing alerts of rules not in `rules` (a rule removed from
// the configuration). Returns how many.
core::Result<std::int64_t> resolve_orphans(const Database& db,
                                           const std::set<std::string>& rules,
                                           std::int64_t now_ms);

// How long a resolved alert is kept (`cosmos alerts list --all` shows it until then).
inline constexpr std::int64_t k_resolved_alert_keep_ms = 30LL * 24 * 3600 * 1000;

// Deletes resolved alerts resolved before `before_ms` whose deliveries are all done (with their
// delivery rows). Events are kept: each stands for a failed run that must not be alerted
// twice. Returns how many went.
core::Result<std::int64_t> prune_resolved_alerts(const Database& db, std::int64_t before_ms);

// Firing alerts and events since `events_since` (ISO), newest first; `all`: every alert.
core::Result<std::vector<AlertRecord>> list_alerts(const Database& db,
                                                   bool all,
                                                   const std::string& events_since,
                                                   int limit);

// ---- deliveries ----

struct DeliveryRecord {
    std::int64_t id = 0;
    std::string sink;
    std::string status;  // firing | resolved
    std::string state;   // pending | delivered | failed
    int attempts = 0;
    std::int64_t next_at_ms = 0;
    std::optional<std::string> last_error;
    AlertRecord alert;
};

// Claims up to `limit` pending deliveries due at `now_ms` that no process holds, for
// `claim_ms` (in one transaction: another process claiming at once gets others).
core::Result<std::vector<DeliveryRecord>> claim_deliveries(const Database& db,
                                                           std::int64_t now_ms,
                                                           std::int64_t claim_ms,
                                                           int limit);

// Records a delivered attempt.
core::Status delivery_done(const Database& db, std::int64_t id, std::int64_t now_ms);
// Records a failed attempt: back to pending at `next_at_ms`, or failed for good when
// `give_up`. `error` must be free of secrets.
core::Status delivery_failed(const Database& db,
                             std::int64_t id,
                             const std::string& error,
                             bool give_up,
                             std::int64_t next_at_ms);
// Gives a claimed delivery back untried.
core::Status delivery_release(const Database& db, std::int64_t id);

// Deliveries of the alert `alert_id`.
core::Result<std::vector<DeliveryRecord>> deliveries_of(const Database& db, std::int64_t alert_id);

// ---- what the evaluator remembers ----

// When `rule` began watching (recorded at its first pass): failed runs before that are not
// alerted.
core::Result<std::string> rule_since(const Database& db,
                                     const std::string& rule,
                                     std::int64_t now_ms);

struct FailedRun {
    std::string id;
    std::optional<std::string> host;
    std::optional<std::string> error;
    std::string finished_at;
};

// Failed runs that finished at or after `since` and have no alert of `rule` yet.
core::Result<std::vector<FailedRun>> failed_runs_to_alert(const Database& db,
                                                          const std::string& rule,
                                                          const std::string& since);

struct RunningRun {
    std::string id;
    std::optional<std::string> host;
    double progress = 0;
    std::int64_t changed_ms = 0;  // when its progress last changed (as seen by the evaluator)
};

// The running runs with when their progress last changed: a run seen for the first time
// counts from its start when it has no progress yet, else from now. Forgets runs that stopped.
core::Result<std::vector<RunningRun>> observe_running_runs(const Database& db, std::int64_t now_ms);

struct QueueFacts {
    std::int64_t waiting = 0;            // queued jobs a worker could claim now
    std::int64_t oldest_waiting_ms = 0;  // when the oldest of them was queued (0: none)
    std::int64_t last_movement_ms = 0;   // last run start or end (0: never)
};
core::Result<QueueFacts> queue_facts(const Database& db, std::int64_t now_ms);

struct GpuWindow {
    std::string host;
    int gpu = 0;
    double util_max = 0;  // highest utilisation in the window (percent)
    std::int64_t first_ms = 0;
    std::int64_t last_ms = 0;
    std::int64_t samples = 0;
};
// Per host and GPU, the gpu_samples rows at or after `since_ms`.
core::Result<std::vector<GpuWindow>> gpu_windows(const Database& db, std::int64_t since_ms);

struct HostProbe {
    std::string host;
    std::int64_t probed_ms = 0;  // 0: never
    std::optional<bool> reachable;
    std::optional<std::int64_t> unreachable_since_ms;
    std::optional<std::int64_t> free_bytes;
    std::optional<std::string> error;
};

// Claims the probe of `host` when its last one is older than `every_ms` and no process is
// probing it; true when this caller should probe now.
core::Result<bool> claim_probe(const Database& db,
                               const std::string& host,
                               std::int64_t every_ms,
                               std::int64_t now_ms);
// Records a probe's answer (and keeps when the host first stopped answering).
core::Status record_probe(const Database& db,
                          const std::string& host,
                          bool reachable,
                          std::optional<std::int64_t> free_bytes,
                          const std::optional<std::string>& error,
                          std::int64_t now_ms);
core::Result<std::map<std::string, HostProbe>> host_probes(const Database& db);

}  // namespace cosmos::store
