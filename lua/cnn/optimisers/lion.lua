--- The Lion optimiser.
-- @module cnn.optimisers.lion

local core = require "cnn.core"
local kind = require "cnn.optimisers.kind"

--- Lion(eta = 0.001, beta = {0.9, 0.999}): the Lion of the paper
-- (arXiv 2302.06675) with Optimisers.jl's defaults: p -= eta sign(b1 m +
-- (1 - b1) g), then m = b2 m + (1 - b2) g, m starting at zeros.
-- (Optimisers.jl writes the sign from the new m, sign((b2 - b1) g + b1 m),
-- the same when m is updated as above; its rules.jl updates m as
-- b2 g + (1 - b2) m, the betas swapped against the paper: this follows
-- the paper.)
-- Fields: `eta` (>= 0), `beta` (each in [0, 1)). State per parameter:
-- `m`.
-- @function Lion
-- @param[opt=0.001] eta the learning rate (or a schedule)
-- @param[opt] beta the decays {b1, b2}, default {0.9, 0.999}
-- @return the optimiser
-- @usage cnn.Lion(3e-4)
return kind.fused(core, {
  name = "Lion",
  rule = "lion",
  states = {false},
  hyperparameters = {
    {"eta", 0.001, "rate"},
    {"beta", {0.9, 0.999}, "betas"},
  },
})
