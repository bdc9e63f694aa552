package linear

import (
	"context"
	"fmt"
	"math"
)

// objective writes the gradient at x into grad and returns the value.
type objective func(x, grad []float64) float64

// lbfgsResult is where L-BFGS stopped.
type lbfgsResult struct {
	iterations int
	converged  bool // max |gradient| ≤ tol
}

// minimize runs L-BFGS (memory 10) from x, in place, with an Armijo
// backtracking line search (c1 = 1e-4, halving). A pair that breaks the
// curvature condition (sᵀy ≤ 0) is skipped, so the inverse-Hessian
// estimate stays positive definite. It stops when max |∇f| ≤ tol, after
// maxIter iterations, or when no step decreases f any more (converged
// false then).
func minimize(ctx context.Context, f objective, x []float64, maxIter int, tol float64) (lbfgsResult, error) {
	const (
		memory = 10
		c1     = 1e-4
	)
	n := len(x)
	g := make([]float64, n)
	fx := f(x, g)
	var sHist, yHist [][]float64
	var rho []float64
	dir := make([]float64, n)
	alpha := make([]float64, memory)
	xNew := make([]float64, n)
	gNew := make([]float64, n)
	for it := 0; ; it++ {
		if maxAbs(g) <= tol {
			return lbfgsResult{iterations: it, converged: true}, nil
		}
		if it == maxIter {
			return lbfgsResult{iterations: it}, nil
		}
		if err := ctx.Err(); err != nil {
			return lbfgsResult{}, fmt.Errorf("l-bfgs: %w", err)
		}
		// Two-loop recursion: dir = −H·g.
		for i := range dir {
			dir[i] = -g[i]
		}
		for k := len(sHist) - 1; k >= 0; k-- {
			alpha[k] = rho[k] * dot(sHist[k], dir)
			axpy(-alpha[k], yHist[k], dir)
		}
		gamma := 1.0
		if k := len(sHist) - 1; k >= 0 {
			gamma = dot(sHist[k], yHist[k]) / dot(yHist[k], yHist[k])
		} else {
			gamma = 1 / math.Max(1, math.Sqrt(dot(g, g)))
		}
		for i := range dir {
			dir[i] *= gamma
		}
		for k := range sHist {
			b := rho[k] * dot(yHist[k], dir)
			axpy(alpha[k]-b, sHist[k], dir)
		}
		slope := dot(g, dir)
		if !(slope < 0) { // not a descent direction: restart from steepest descent
			sHist, yHist, rho = nil, nil, nil
			for i := range dir {
				dir[i] = -g[i]
			}
			slope = dot(g, dir)
		}
		step, fNew := 1.0, 0.0
		accepted := false
		for range 60 {
			for i := range x {
				xNew[i] = x[i] + step*dir[i]
			}
			fNew = f(xNew, gNew)
			if fNew <= fx+c1*step*slope {
				accepted = true
				break
			}
			step /= 2
		}
		if !accepted {
			return lbfgsResult{iterations: it}, nil
		}
		s := make([]float64, n)
		y := make([]float64, n)
		for i := range x {
			s[i] = xNew[i] - x[i]
			y[i] = gNew[i] - g[i]
		}
		copy(x, xNew)
		copy(g, gNew)
		fx = fNew
		if sy := dot(s, y); sy > 1e-12*dot(y, y) && sy > 0 {
			if len(sHist) == memory {
				sHist, yHist, rho = sHist[1:], yHist[1:], rho[1:]
			}
			sHist = append(sHist, s)
			yHist = append(yHist, y)
			rho = append(rho, 1/sy)
		}
	}
}

func dot(a, b []float64) float64 {
	var s float64
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

// axpy sets y += a·x.
func axpy(a float64, x, y []float64) {
	for i := range x {
		y[i] += a * x[i]
	}
}

func maxAbs(v []float64) float64 {
	var m float64
	for _, x := range v {
		m = max(m, math.Abs(x))
	}
	return m
}
