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
    if not base.is_tensor(x) then
      return ("expected a tensor, got %s"):format(type(x))
    end
    return nil
  end

  function Dropout:forward(x)
    return cnn.dropout(x, self.p, base.is_active(self.mode, x))
  end

  function Dropout:set_mode(mode)
    self.mode = mode
  end

  function Dropout:output_size(sizes)
    return sizes
  end

  function Dropout:describe()
    return ("Dropout(%s)"):format(self.p)
  end

  return function(...)
    local ok, layer = pcall(build, ...)
    if not ok then error(layer, 2) end
    return layer
  end
end
