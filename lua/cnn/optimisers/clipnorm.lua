--- The ClipNorm gradient transform.
-- @module cnn.optimisers.clipnorm

local core = require "cnn.core"
local errors = require "cnn.errors"
local kind = require "cnn.optimisers.kind"

--- ClipNorm(omega = 10, p = 2): Optimisers.jl's ClipNorm, per parameter
-- array: the gradient (as transformed by what comes before in the chain)
-- is scaled by min(1, omega / ‖g‖_p), so that its p-norm is at most
-- omega. A non-finite norm is an error (Optimisers.jl's throw = true).
-- PyTorch's clip_grad_norm_ on one array divides by ‖g‖ + 1e-6 instead.
-- Costs one reduction pass over the gradient before the rule's pass.
-- Fields: `omega` (>= 0), `p` (> 0, or math.huge). State: none.
-- @function ClipNorm
-- @param[opt=10] omega the largest norm
-- @param[opt=2] p the norm's exponent (math.huge: the largest |g|)
-- @return the optimiser
-- @usage cnn.OptimiserChain(cnn.ClipNorm(1.0), cnn.WeightDecay(1e-4), cnn.ADAM(1e-3))
return kind.transform(core, {
  name = "ClipNorm",
  hyperparameters = {{"omega", 10, "rate"}, {"p", 2, "norm", omit_default = true}},
  transform = function(o, p, g, pre)
    local norm = core.grad_norm(p, g, o.p, pre)
    if norm ~= norm or norm == math.huge then
      errors.raise(("ClipNorm: the gradient has %g-norm %s; it must be finite")
        :format(o.p, norm ~= norm and "NaN" or "inf"))
    end
    pre[#pre + 1], pre[#pre + 2] = "scale", math.min(o.omega / norm, 1)
  end,
})
