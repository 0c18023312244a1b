--- Tensor construction and the Tensor type, re-exported from cnn.core.
-- @module cnn.tensor

return function(cnn)
  local core = cnn.core
  return {
    Tensor = core.Tensor,
    zeros = core.zeros,
    ones = core.ones,
  }
end
