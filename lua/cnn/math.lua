--- Elementwise maths, reductions and matrix products, re-exported from
-- cnn.core on `cnn`.
--
-- Names follow Julia, here as in cnn.core: `cnn.maximum(x)` and
-- `cnn.minimum(x)` are the reductions, the elementwise max.(a, b) and
-- min.(a, b) of Julia are `cnn.max(a, b)` and `cnn.min(a, b)`. A dimension
-- given as the second argument plays the part of Julia's `dims=`: the
-- result keeps that dimension with size 1. Operators on tensors (`+ - * / ^`
-- and unary minus) broadcast elementwise like Julia's dotted operators;
-- the matrix product is `cnn.matmul(a, b)`.
--
-- The autodiff part replaces the differentiable ones (matmul, transpose,
-- exp, log, sqrt, abs, sum, mean) with recording versions of the same
-- functions.
-- @module cnn.math

local core = require "cnn.core"

return {
  --- matmul(a, b): a m×k times b k×n → m×n; b may be a vector (k) → m.
  -- @function matmul
  -- @tparam Tensor a m×k
  -- @tparam Tensor b k×n, or a vector of length k
  -- @treturn Tensor
  -- @usage cnn.matmul(cnn.ones(2, 3), cnn.ones(3, 4)):size() --> {2, 4}
  matmul = core.matmul,
  --- transpose(a): the n×m transpose of an m×n matrix (a copy); a vector
  -- of length m gives 1×m.
  -- @function transpose
  -- @tparam Tensor a a matrix or a vector
  -- @treturn Tensor
  -- @usage cnn.transpose(cnn.ones(2, 3)):size() --> {3, 2}
  transpose = core.transpose,
  --- isapprox(a, b [, rtol [, atol]]): every pair x, y has x == y or
  -- |x - y| <= max(atol, rtol·max(|x|, |y|)); rtol defaults to
  -- sqrt(eps(Float32)) (0 when atol > 0 is given), atol to 0.
  -- @function isapprox
  -- @tparam Tensor a
  -- @tparam Tensor b of the same sizes
  -- @param[opt] rtol the relative tolerance
  -- @param[opt=0] atol the absolute tolerance
  -- @treturn boolean
  -- @usage cnn.isapprox(cnn.ones(3), cnn.ones(3) + 1e-7) --> true
  isapprox = core.isapprox,
  --- exp(x [, out]): exp.(x).
  -- @function exp
  -- @tparam Tensor x
  -- @tparam[opt] Tensor out written in place when given
  -- @treturn Tensor
  -- @usage cnn.exp(cnn.ones(3))
  exp = core.exp,
  --- log(x [, out]): log.(x).
  -- @function log
  -- @tparam Tensor x
  -- @tparam[opt] Tensor out written in place when given
  -- @treturn Tensor
  -- @usage cnn.log(cnn.ones(3))
  log = core.log,
  --- sqrt(x [, out]): sqrt.(x).
  -- @function sqrt
  -- @tparam Tensor x
  -- @tparam[opt] Tensor out written in place when given
  -- @treturn Tensor
  -- @usage cnn.sqrt(cnn.ones(3))
  sqrt = core.sqrt,
  --- abs(x [, out]): abs.(x).
  -- @function abs
  -- @tparam Tensor x
  -- @tparam[opt] Tensor out written in place when given
  -- @treturn Tensor
  -- @usage cnn.abs(cnn.ones(3))
  abs = core.abs,
  --- sum(x [, dim]): a number, or a tensor with dimension dim of size 1.
  -- @function sum
  -- @tparam Tensor x
  -- @param[opt] dim the dimension summed over
  -- @return a number, or a tensor
  -- @usage cnn.sum(cnn.ones(2, 3)) --> 6.0
  -- cnn.sum(cnn.ones(2, 3), 2):size() --> {2, 1}
  sum = core.sum,
  --- mean(x [, dim]).
  -- @function mean
  -- @tparam Tensor x
  -- @param[opt] dim the dimension averaged over
  -- @return a number, or a tensor
  -- @usage cnn.mean(cnn.range(1, 4)) --> 2.5
  mean = core.mean,
  --- maximum(x [, dim]): the largest element (NaN if there is one).
  -- @function maximum
  -- @tparam Tensor x
  -- @param[opt] dim the dimension reduced
  -- @return a number, or a tensor
  -- @usage cnn.maximum(cnn.range(1, 4)) --> 4.0
  maximum = core.maximum,
  --- minimum(x [, dim]).
  -- @function minimum
  -- @tparam Tensor x
  -- @param[opt] dim the dimension reduced
  -- @return a number, or a tensor
  -- @usage cnn.minimum(cnn.range(1, 4)) --> 1.0
  minimum = core.minimum,
  --- argmax(x [, dim]): the 1-based linear index of the first maximum, or
  -- an Int32 tensor of indices along dim.
  -- @function argmax
  -- @tparam Tensor x
  -- @param[opt] dim the dimension searched
  -- @return an integer, or an Int32 tensor
  -- @usage cnn.argmax(cnn.tensor{3, 9, 1}) --> 2
  argmax = core.argmax,
  --- argmin(x [, dim]).
  -- @function argmin
  -- @tparam Tensor x
  -- @param[opt] dim the dimension searched
  -- @return an integer, or an Int32 tensor
  -- @usage cnn.argmin(cnn.tensor{3, 9, 1}) --> 3
  argmin = core.argmin,
}
