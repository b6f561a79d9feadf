#pragma once

// The PBKDF2 iteration counts live here, below auth, because the command line
// (config) offers --pbkdf2-iterations and must know the default and the floor
// without linking the password code.
namespace Pbkdf2Iterations {

// Measured with bench/bench_passwords on the reference machine (2 cores,
// x86_64, Debian 12's Qt 6.4.2, 2026-11): 60,000 iterations take 105-112 ms
// per hash (about 1.8 us per iteration), inside the 50-150 ms we aim for. The
// count is part of the stored string, so it can be raised later without
// breaking stored hashes.
inline constexpr int Default = 60000;
// Tests may lower the count to this through --pbkdf2-iterations; never below.
inline constexpr int Minimum = 1000;

} // namespace Pbkdf2Iterations
