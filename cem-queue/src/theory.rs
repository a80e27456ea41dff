//! Queueing theory where it has exact answers: the M/M/c queue (Erlang C).
//!
//! Used to validate the simulator, and by staffing forecasts to find the counters a service
//! level needs.

/// The probability that an arrival has to wait in an M/M/c queue with `servers` servers and an
/// offered load of `load = λ / μ` erlangs (Erlang's C formula). Returns 1 when the queue is
/// unstable (`load ≥ servers`).
///
/// ```
/// // Two servers at 1.5 erlangs: C = 0.6428…
/// let c = cem_queue::theory::erlang_c(2, 1.5);
/// assert!((c - 0.642857).abs() < 1e-6);
/// ```
pub fn erlang_c(servers: u32, load: f64) -> f64 {
    if servers == 0 || load >= f64::from(servers) {
        return 1.0;
    }
    if load <= 0.0 {
        return 0.0;
    }
    // Erlang B by its stable recurrence, then C from B.
    let mut b = 1.0;
    for k in 1..=servers {
        b = load * b / (f64::from(k) + load * b);
    }
    let rho = load / f64::from(servers);
    b / (1.0 - rho * (1.0 - b))
}

/// Mean waiting time (before service) in an M/M/c queue, in the unit of `mean_service`.
/// Infinite when unstable.
pub fn mmc_mean_wait(servers: u32, arrival_rate: f64, mean_service: f64) -> f64 {
    let load = arrival_rate * mean_service;
    if load >= f64::from(servers) {
        return f64::INFINITY;
    }
    erlang_c(servers, load) * mean_service / (f64::from(servers) - load)
}

/// The share of arrivals of an M/M/c queue called within `target` (same unit as `mean_service`).
pub fn mmc_service_level(servers: u32, arrival_rate: f64, mean_service: f64, target: f64) -> f64 {
    let load = arrival_rate * mean_service;
    if load >= f64::from(servers) {
        return 0.0;
    }
    let c = erlang_c(servers, load);
    1.0 - c * (-(f64::from(servers) - load) * target / mean_service).exp()
}

/// The fewest servers that reach `service_level` within `target` for an M/M/c queue.
pub fn servers_for_service_level(
    arrival_rate: f64,
    mean_service: f64,
    target: f64,
    service_level: f64,
) -> u32 {
    let load = arrival_rate * mean_service;
    let mut servers = (load.floor() as u32).max(1);
    while mmc_service_level(servers, arrival_rate, mean_service, target) < service_level {
        servers += 1;
    }
    servers
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erlang_c_matches_published_values() {
        // Classic call-centre example: 10 erlangs on 11 agents gives C ≈ 0.6821.
        assert!((erlang_c(11, 10.0) - 0.6821).abs() < 5e-4);
        // One server: C is the utilization.
        assert!((erlang_c(1, 0.7) - 0.7).abs() < 1e-12);
        assert_eq!(erlang_c(3, 3.0), 1.0);
    }

    #[test]
    fn mm1_mean_wait_is_rho_over_mu_minus_lambda() {
        // λ = 0.5, μ = 1: Wq = ρ / (μ − λ) = 1.
        assert!((mmc_mean_wait(1, 0.5, 1.0) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn staffing_reaches_the_asked_service_level() {
        // 100 calls per hour of 3 minutes, 80 % within 20 s: the textbook answer is 8 agents.
        let servers = servers_for_service_level(100.0 / 3600.0, 180.0, 20.0, 0.8);
        assert_eq!(servers, 8);
        assert!(mmc_service_level(servers - 1, 100.0 / 3600.0, 180.0, 20.0) < 0.8);
    }
}
