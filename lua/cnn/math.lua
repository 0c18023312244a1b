--- Elementwise maths, reductions and matrix products, re-exported from
-- cnn.core on `cnn`.
--
-- Names follow Julia: `cnn.maximum(x)` and `cnn.minimum(x)` are the
-- reductions Julia calls maximum and minimum (cnn.core.max and min); the
-- elementwise max of two tensors is `cnn.core.maximum(a, b)`. A dimension
-- given as the second argument plays the part of Julia's `dims=`: the
-- result keeps that dimension with size 1. Operators on tensors (`+ - * / ^`
-- and unary minus) broadcast elementwise like Julia's dotted operators;
-- the matrix product is `cnn.matmul(a, b)`.
--
-- The autodiff part replaces the differentiable ones (matmul, transpose,
-- exp, log, sqrt, abs, sum, mean) with recording versions of the same
-- functions.
-- @module cnn.math

local errors = require "cnn.errors"

return function(cnn)
  local core = cnn.core

  -- core's reduction `from` under its Julia name: its errors say `name`.
  local function renamed(name, from)
    local f = core[from]
    return function(...) return errors.call_renamed(name, from, f, ...) end
  end

  return {
    --- matmul(a, b): a m×k times b k×n → m×n; b may be a vector (k) → m.
    matmul = core.matmul,
    --- transpose(a): the n×m transpose of an m×n matrix (a copy); a vector
    -- of length m gives 1×m.
    transpose = core.transpose,
    --- isapprox(a, b [, rtol [, atol]]): every pair x, y has x == y or
    -- |x - y| <= max(atol, rtol·max(|x|, |y|)); rtol defaults to
    -- sqrt(eps(Float32)) (0 when atol > 0 is given), atol to 0.
    isapprox = core.isapprox,
    --- exp(x [, out]): exp.(x).
    exp = core.exp,
    --- log(x [, out]): log.(x).
    log = core.log,
    --- sqrt(x [, out]): sqrt.(x).
    sqrt = core.sqrt,
    --- abs(x [, out]): abs.(x).
    abs = core.abs,
    --- sum(x [, dim]): a number, or a tensor with dimension dim of size 1.
    sum = core.sum,
    --- mean(x [, dim]).
    mean = core.mean,
    --- maximum(x [, dim]): the largest element (NaN if there is one).
    maximum = renamed("maximum", "max"),
    --- minimum(x [, dim]).
    minimum = renamed("minimum", "min"),
    --- argmax(x [, dim]): the 1-based linear index of the first maximum, or
    -- an Int32 tensor of indices along dim.
    argmax = core.argmax,
    --- argmin(x [, dim]).
    argmin = core.argmin,
  }
end
