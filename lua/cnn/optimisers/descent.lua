--- Descent(eta = 0.1): plain gradient descent, p -= eta g.
-- Fields: `eta`. State: none.
-- @module cnn.optimisers.descent

return function(core, Optimiser)
  local function step(o, p, g)
    core.descent_step(p, g, o.eta)
  end

  return function(eta)
    return Optimiser.new("Descent", {eta = eta or 0.1}, step, {"eta"})
  end
end
