--- The methods of tensors, one entry each: `t:size()`, `t:reshape(...)`,
-- `t:sum()`, ... (the table `cnn.Tensor.methods`).
--
-- A method is the function of the same name with the tensor as first
-- argument: `t:sum(2)` is `cnn.sum(t, 2)`. The methods that compute
-- (algebra, reductions, shapes, activations) are the differentiable ops
-- of `cnn.ops`, so a loss written with them is differentiated; the
-- others (sizes, views, elements, copies) come from cnn.core as they
-- are. Only `t:max()` and `t:min()` differ from the functions of their
-- names: they are the reductions `cnn.maximum` and `cnn.minimum`, while
-- `cnn.max(a, b)` and `cnn.min(a, b)` are elementwise.
--
-- This module holds the documentation only: the methods are installed
-- by cnn.core and cnn.ops, and `require "cnn.docs"` reads this file.
-- @module cnn.methods

-- Sizes and type ------------------------------------------------------

--- t:size([d]): the sizes, fastest-varying first, or the size of
-- dimension d.
-- @function Tensor:size
-- @param[opt] d a dimension, from 1
-- @return a table of sizes, or an integer
-- @usage cnn.zeros(28, 28, 1, 4):size() --> {28, 28, 1, 4}
-- cnn.zeros(28, 28, 1, 4):size(4) --> 4

--- t:ndims(): the number of dimensions (0 for a 0-dim tensor).
-- @function Tensor:ndims
-- @treturn integer
-- @usage cnn.zeros(2, 3):ndims() --> 2

--- t:numel(): the number of elements.
-- @function Tensor:numel
-- @treturn integer
-- @usage cnn.zeros(2, 3):numel() --> 6

--- t:dtype(): the element type, "Float32" or "Int32".
-- @function Tensor:dtype
-- @treturn string
-- @usage cnn.zeros(2):dtype() --> "Float32"

--- t:is_contiguous(): whether the elements are dense in column-major
-- order (a view made by select or slice may not be).
-- @function Tensor:is_contiguous
-- @treturn boolean
-- @usage cnn.zeros(3, 4):slice(1, 1, 2):is_contiguous() --> false

-- Views ---------------------------------------------------------------

--- t:reshape(sizes...): the same elements with other sizes (integers or
-- one table; one may be -1, computed from the others), as Julia's
-- reshape; a view when t is contiguous. Differentiable (cnn.reshape).
-- @function Tensor:reshape
-- @param ... the sizes
-- @treturn Tensor
-- @usage cnn.zeros(28, 28, 1, 4):reshape(-1, 4):size() --> {784, 4}

--- t:cat(b, ..., {dims = d}): t and the other tensors one after another
-- along dimension d, as Julia's cat (cnn.cat).
-- @function Tensor:cat
-- @param ... the other tensors, then the options table with dims
-- @treturn Tensor
-- @usage cnn.ones(2, 3):cat(cnn.zeros(2, 1), {dims = 2}):size() --> {2, 4}

--- t:flip([dims]): t reversed along dims, all of them by default, as
-- Julia's reverse (cnn.flip).
-- @function Tensor:flip
-- @param[opt] dims a dimension or a list of them
-- @treturn Tensor
-- @usage cnn.tensor{1, 2, 3}:flip() --> 3, 2, 1

--- t:pad(pad [, value]): t padded with value (0), as NNlib's pad_constant
-- (cnn.pad).
-- @function Tensor:pad
-- @param pad one integer, or one or two per dimension, or {lo, hi} pairs
-- @param[opt=0] value the value of the new elements
-- @treturn Tensor
-- @usage cnn.ones(2, 2):pad(1):size() --> {4, 4}

--- t:repeat_(c1, c2, ...): t repeated c_d times along each dimension d,
-- as Julia's repeat (cnn.repeat_).
-- @function Tensor:repeat_
-- @param ... the counts (or one list of them)
-- @treturn Tensor
-- @usage cnn.tensor{1, 2}:repeat_(2) --> 1, 2, 1, 2

--- t:flatten(): W×H×C×N (or any sizes) to features×N, keeping the last
-- dimension (cnn.flatten).
-- @function Tensor:flatten
-- @treturn Tensor
-- @usage cnn.zeros(3, 3, 2, 5):flatten():size() --> {18, 5}

--- t:select(dim, i): the view of index i of dimension dim, without that
-- dimension. Differentiable.
-- @function Tensor:select
-- @param dim the dimension
-- @param i the index, from 1
-- @treturn Tensor
-- @usage cnn.zeros(2, 3):select(2, 1):size() --> {2}

--- t:slice(dim, first, last): the view of indices first..last of
-- dimension dim (Julia's `t[:, first:last]`). Differentiable.
-- @function Tensor:slice
-- @param dim the dimension
-- @param first the first index, from 1
-- @param last the last index (first - 1 for an empty view)
-- @treturn Tensor
-- @usage cnn.zeros(28, 28, 1, 100):slice(4, 1, 10):size() --> {28, 28, 1, 10}

--- t:narrow(dim, start, length): the view of `length` indices of
-- dimension dim from start (t:slice(dim, start, start + length - 1)).
-- Differentiable.
-- @function Tensor:narrow
-- @param dim the dimension
-- @param start the first index, from 1
-- @param length the number of indices
-- @treturn Tensor
-- @usage cnn.zeros(2, 5):narrow(2, 2, 3):size() --> {2, 3}

--- t:transpose(): the n×m transpose of an m×n matrix (a copy); a vector
-- of length m gives 1×m (cnn.transpose).
-- @function Tensor:transpose
-- @treturn Tensor
-- @usage cnn.zeros(2, 3):transpose():size() --> {3, 2}

-- Copies and conversions ----------------------------------------------

--- t:clone(): a new tensor with the same elements. Differentiable.
-- @function Tensor:clone
-- @treturn Tensor
-- @usage local a = cnn.ones(2) local b = a:clone() b:fill(3) print(a) -- still ones

--- t:contiguous(): t when its elements are dense in column-major order,
-- else a dense copy. Differentiable.
-- @function Tensor:contiguous
-- @treturn Tensor
-- @usage cnn.zeros(3, 4):slice(1, 1, 2):contiguous():is_contiguous() --> true

--- t:copy(src): copies src, a tensor of t's sizes, into t, in place;
-- returns t. Sizes that differ are an error (`fill` sets one number).
-- Refused inside a gradient call on a tracked tensor.
-- @function Tensor:copy
-- @tparam Tensor src
-- @treturn Tensor t
-- @usage cnn.zeros(2, 3):copy(cnn.ones(2, 3))

--- t:fill(v): sets every element to the number v, in place; returns t.
-- Not recorded by gradient.
-- @function Tensor:fill
-- @param v a number
-- @treturn Tensor t
-- @usage cnn.zeros(2, 3):fill(7)

--- t:float(): a Float32 copy.
-- @function Tensor:float
-- @treturn Tensor
-- @usage cnn.tensor({1, 2}, "int32"):float():dtype() --> "Float32"

--- t:int(): an Int32 copy; every element must be a whole number, as in
-- Julia's Int32.(x).
-- @function Tensor:int
-- @treturn Tensor
-- @usage cnn.tensor{1, 2}:int():dtype() --> "Int32"

--- t:free(): releases the elements now rather than at the next garbage
-- collection; t and its views then raise "attempt to use a freed
-- tensor". Calling it twice does nothing.
-- @function Tensor:free
-- @usage local big = cnn.zeros(1000, 1000) big:free()

--- t:isfreed(): whether t's elements were released by free.
-- @function Tensor:isfreed
-- @treturn boolean
-- @usage local t = cnn.zeros(2) t:free() print(t:isfreed()) --> true

-- Elements ------------------------------------------------------------

--- t:get(i, j, ...): the element at 1-based indices, one per dimension
-- (or one linear index).
-- @function Tensor:get
-- @param ... the indices
-- @treturn number
-- @usage cnn.tensor{{1, 2}, {3, 4}}:get(2, 1) --> 3.0

--- t:set(i, j, ..., v): sets the element at 1-based indices (one per
-- dimension, or one linear index) to v, in place; returns t.
-- @function Tensor:set
-- @param ... the indices, then the value
-- @treturn Tensor t
-- @usage cnn.zeros(2, 2):set(1, 2, 5)

--- t:item(): the element of a one-element tensor as a number (a loss,
-- a sum).
-- @function Tensor:item
-- @treturn number
-- @usage cnn.ones(2, 3):sum(2):slice(1, 1, 1):item() --> 3.0

--- t:totable(): the elements as nested Lua tables, the inverse of
-- cnn.tensor (the outer index is dimension 1).
-- @function Tensor:totable
-- @treturn table
-- @usage cnn.ones(2, 2):totable() --> {{1, 1}, {1, 1}}

-- Algebra -------------------------------------------------------------

--- t:add(b): t + b, elementwise with broadcasting (cnn.ops.add).
-- @function Tensor:add
-- @param b a tensor or a number
-- @treturn Tensor
-- @usage cnn.ones(2, 3):add(cnn.tensor{1, 2})

--- t:sub(b): t - b, elementwise with broadcasting (cnn.ops.sub).
-- @function Tensor:sub
-- @param b a tensor or a number
-- @treturn Tensor
-- @usage cnn.ones(2):sub(1)

--- t:mul(b): t .* b, elementwise with broadcasting (cnn.ops.mul); the
-- matrix product is t:matmul(b).
-- @function Tensor:mul
-- @param b a tensor or a number
-- @treturn Tensor
-- @usage cnn.ones(2):mul(3)

--- t:div(b): t ./ b, elementwise with broadcasting (cnn.ops.div).
-- @function Tensor:div
-- @param b a tensor or a number
-- @treturn Tensor
-- @usage cnn.ones(2):div(4)

--- t:pow(b): t .^ b, elementwise with broadcasting (cnn.ops.pow).
-- @function Tensor:pow
-- @param b a tensor or a number
-- @treturn Tensor
-- @usage cnn.tensor{2, 3}:pow(2) --> 4, 9

--- t:neg(): -t (cnn.ops.neg).
-- @function Tensor:neg
-- @treturn Tensor
-- @usage cnn.ones(2):neg()

--- t:matmul(b): the matrix product (cnn.matmul).
-- @function Tensor:matmul
-- @tparam Tensor b k×n, or a vector of length k
-- @treturn Tensor
-- @usage cnn.ones(2, 3):matmul(cnn.ones(3, 4)):size() --> {2, 4}

--- t:exp(): e^t elementwise (cnn.exp).
-- @function Tensor:exp
-- @treturn Tensor
-- @usage cnn.zeros(2):exp() --> 1, 1

--- t:log(): the natural logarithm elementwise (cnn.log).
-- @function Tensor:log
-- @treturn Tensor
-- @usage cnn.ones(2):log() --> 0, 0

--- t:sqrt(): the square root elementwise (cnn.sqrt).
-- @function Tensor:sqrt
-- @treturn Tensor
-- @usage cnn.tensor{4, 9}:sqrt() --> 2, 3

--- t:abs(): the absolute value elementwise (cnn.abs).
-- @function Tensor:abs
-- @treturn Tensor
-- @usage cnn.tensor{-1, 2}:abs() --> 1, 2

--- t:isapprox(b [, rtol [, atol]]): whether t and b agree within the
-- tolerances (cnn.isapprox).
-- @function Tensor:isapprox
-- @tparam Tensor b
-- @param[opt] rtol the relative tolerance
-- @param[opt] atol the absolute tolerance
-- @treturn boolean
-- @usage cnn.ones(2):isapprox(cnn.ones(2)) --> true

-- Comparisons: masks of 0 and 1, not differentiable --------------------

--- t:eq(b): 1 where t == b, else 0, elementwise with broadcasting.
-- @function Tensor:eq
-- @param b a tensor or a number
-- @treturn Tensor
-- @usage cnn.tensor{1, 2}:eq(2) --> 0, 1

--- t:ne(b): 1 where t ~= b, else 0.
-- @function Tensor:ne
-- @param b a tensor or a number
-- @treturn Tensor
-- @usage cnn.tensor{1, 2}:ne(2) --> 1, 0

--- t:lt(b): 1 where t < b, else 0.
-- @function Tensor:lt
-- @param b a tensor or a number
-- @treturn Tensor
-- @usage cnn.tensor{1, 2}:lt(2) --> 1, 0

--- t:le(b): 1 where t <= b, else 0.
-- @function Tensor:le
-- @param b a tensor or a number
-- @treturn Tensor
-- @usage cnn.tensor{1, 2}:le(2) --> 1, 1

--- t:gt(b): 1 where t > b, else 0.
-- @function Tensor:gt
-- @param b a tensor or a number
-- @treturn Tensor
-- @usage cnn.tensor{1, 2}:gt(1) --> 0, 1

--- t:ge(b): 1 where t >= b, else 0.
-- @function Tensor:ge
-- @param b a tensor or a number
-- @treturn Tensor
-- @usage cnn.tensor{1, 2}:ge(1) --> 1, 1

-- Reductions ----------------------------------------------------------

--- t:sum([dim]): the sum of all elements, or along dim keeping it with
-- size 1 (cnn.sum).
-- @function Tensor:sum
-- @param[opt] dim the dimension summed
-- @return a number, or a tensor
-- @usage cnn.ones(2, 3):sum() --> 6.0

--- t:mean([dim]): the mean of all elements, or along dim (cnn.mean).
-- @function Tensor:mean
-- @param[opt] dim the dimension averaged
-- @return a number, or a tensor
-- @usage cnn.tensor{1, 2, 3}:mean() --> 2.0

--- t:max([dim]): the largest element, or the largest along dim: the
-- reduction cnn.maximum (the elementwise max is cnn.max(a, b)).
-- @function Tensor:max
-- @param[opt] dim the dimension reduced
-- @return a number, or a tensor
-- @usage cnn.tensor{3, 9, 1}:max() --> 9.0

--- t:min([dim]): the smallest element, or the smallest along dim: the
-- reduction cnn.minimum (the elementwise min is cnn.min(a, b)).
-- @function Tensor:min
-- @param[opt] dim the dimension reduced
-- @return a number, or a tensor
-- @usage cnn.tensor{3, 9, 1}:min() --> 1.0

--- t:maximum([dim]): as t:max(), under Julia's name (cnn.maximum).
-- @function Tensor:maximum
-- @param[opt] dim the dimension reduced
-- @return a number, or a tensor
-- @usage cnn.tensor{3, 9, 1}:maximum() --> 9.0

--- t:minimum([dim]): as t:min(), under Julia's name (cnn.minimum).
-- @function Tensor:minimum
-- @param[opt] dim the dimension reduced
-- @return a number, or a tensor
-- @usage cnn.tensor{3, 9, 1}:minimum() --> 1.0

--- t:argmax([dim]): the 1-based linear index of the first largest
-- element, or the indices along dim (cnn.argmax).
-- @function Tensor:argmax
-- @param[opt] dim the dimension searched
-- @return an integer, or an Int32 tensor
-- @usage cnn.tensor{3, 9, 1}:argmax() --> 2

--- t:argmin([dim]): as t:argmax() for the smallest (cnn.argmin).
-- @function Tensor:argmin
-- @param[opt] dim the dimension searched
-- @return an integer, or an Int32 tensor
-- @usage cnn.tensor{3, 9, 1}:argmin() --> 3

--- t:sum_to(sizes): t summed down to sizes it broadcasts from, the
-- reverse of broadcasting (what a gradient of a broadcast operand needs).
-- @function Tensor:sum_to
-- @tparam table sizes
-- @treturn Tensor
-- @usage cnn.ones(2, 3):sum_to({2, 1}) --> 3, 3

-- Activations ---------------------------------------------------------

--- t:relu(): max(t, 0) elementwise (cnn.relu).
-- @function Tensor:relu
-- @treturn Tensor
-- @usage cnn.tensor{-1, 2}:relu() --> 0, 2

--- t:leakyrelu([a]): t where positive, a·t elsewhere (cnn.leakyrelu).
-- @function Tensor:leakyrelu
-- @param[opt=0.01] a the slope below 0
-- @treturn Tensor
-- @usage cnn.tensor{-1, 2}:leakyrelu(0.1) --> -0.1, 2

--- t:elu([a]): t where positive, a·(e^t - 1) elsewhere (cnn.elu).
-- @function Tensor:elu
-- @param[opt=1] a the scale below 0
-- @treturn Tensor
-- @usage cnn.tensor{-1, 2}:elu()

--- t:gelu(): the Gaussian error linear unit elementwise (cnn.gelu).
-- @function Tensor:gelu
-- @treturn Tensor
-- @usage cnn.tensor{-1, 2}:gelu()

--- t:sigmoid(): 1 / (1 + e^-t) elementwise (cnn.sigmoid).
-- @function Tensor:sigmoid
-- @treturn Tensor
-- @usage cnn.zeros(2):sigmoid() --> 0.5, 0.5

--- t:tanh(): the hyperbolic tangent elementwise (cnn.tanh).
-- @function Tensor:tanh
-- @treturn Tensor
-- @usage cnn.zeros(2):tanh() --> 0, 0

--- t:softplus(): log(1 + e^t) elementwise (cnn.softplus).
-- @function Tensor:softplus
-- @treturn Tensor
-- @usage cnn.zeros(2):softplus()

--- t:logsigmoid(): log(sigmoid(t)) elementwise (cnn.logsigmoid).
-- @function Tensor:logsigmoid
-- @treturn Tensor
-- @usage cnn.zeros(2):logsigmoid()

--- t:identity(): t itself (cnn.identity).
-- @function Tensor:identity
-- @treturn Tensor t
-- @usage cnn.ones(2):identity()

--- t:hardtanh([lo [, hi]]): t clamped to [lo, hi] (cnn.hardtanh).
-- @function Tensor:hardtanh
-- @param[opt=-1] lo the lower bound
-- @param[opt=1] hi the upper bound, at least lo
-- @treturn Tensor
-- @usage cnn.tensor{-3, 0.5, 2}:hardtanh() --> -1, 0.5, 1

--- t:swish(): t · sigmoid(t) elementwise (cnn.swish).
-- @function Tensor:swish
-- @treturn Tensor
-- @usage cnn.tensor{-1, 2}:swish()

--- t:mish(): t · tanh(softplus(t)) elementwise (cnn.mish).
-- @function Tensor:mish
-- @treturn Tensor
-- @usage cnn.tensor{-1, 2}:mish()

--- t:relu6(): t clamped to [0, 6] (cnn.relu6).
-- @function Tensor:relu6
-- @treturn Tensor
-- @usage cnn.tensor{-1, 3, 8}:relu6() --> 0, 3, 6

--- t:hardsigmoid(): (t + 3) / 6 clamped to [0, 1] (cnn.hardsigmoid).
-- @function Tensor:hardsigmoid
-- @treturn Tensor
-- @usage cnn.tensor{-4, 0, 4}:hardsigmoid() --> 0, 0.5, 1

--- t:selu(): the scaled exponential linear unit elementwise (cnn.selu).
-- @function Tensor:selu
-- @treturn Tensor
-- @usage cnn.tensor{-1, 2}:selu()

--- t:celu([a]): t where t ≥ 0, a·(exp(t/a) - 1) elsewhere (cnn.celu).
-- @function Tensor:celu
-- @param[opt=1] a the scale below 0, not 0
-- @treturn Tensor
-- @usage cnn.tensor{-1, 2}:celu()

--- t:softsign(): t / (1 + |t|) elementwise (cnn.softsign).
-- @function Tensor:softsign
-- @treturn Tensor
-- @usage cnn.tensor{-1, 0, 3}:softsign() --> -0.5, 0, 0.75

--- t:softmax([dims]): the softmax over dimension 1 of classes×N
-- (cnn.softmax).
-- @function Tensor:softmax
-- @param[opt=1] dims the dimension normalised (only 1 is supported)
-- @treturn Tensor
-- @usage cnn.rand(10, 4):softmax():sum(1) --> ones

--- t:logsoftmax([dims]): log(softmax(t)) over dimension 1
-- (cnn.logsoftmax).
-- @function Tensor:logsoftmax
-- @param[opt=1] dims the dimension normalised (only 1 is supported)
-- @treturn Tensor
-- @usage cnn.rand(10, 4):logsoftmax()

return {}
