package linear

import (
	"context"
	"testing"
)

func BenchmarkFitLogisticBreastCancer(b *testing.B) {
	d := loadDataset(b, "breast_cancer")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Fit(context.Background(), d, Params{Kind: Logistic}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFitRidgeDiabetes(b *testing.B) {
	d := loadDataset(b, "diabetes")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Fit(context.Background(), d, Params{Kind: Ridge}); err != nil {
			b.Fatal(err)
		}
	}
}
