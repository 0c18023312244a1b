--- Dropout(p): while active, zeroes each element with probability p and
-- scales the rest by 1/(1-p); inactive, the identity. As in Flux it is
-- active while a gradient is taken (mode "auto"), or always/never after
-- `cnn.trainmode(m)` / `cnn.testmode(m)`.
-- @module cnn.layers.Dropout

return function(cnn, base)
  local Dropout = base.class("Dropout")

  local function build(p)
    if type(p) ~= "number" or p < 0 or p > 1 then
      error("Dropout: p must be a number in [0, 1]", 0)
    end
    return setmetatable({p = p, mode = "auto"}, Dropout)
  end

  function Dropout:check(x)
    return base.check_tensor(x)
  end

  function Dropout:forward(x)
    return cnn.dropout(x, self.p, base.is_active(self.mode, x))
  end

  Dropout.set_mode = base.set_mode
  Dropout.output_size = base.same_size

  function Dropout:describe()
    return ("Dropout(%s)"):format(self.p)
  end

  return base.constructor(build)
end
