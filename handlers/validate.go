package handlers

import (
	"errors"
	"maps"
	"reflect"
	"slices"
	"strings"

	"github.com/go-playground/validator/v10"

	"github.com/simpleuser/simpleuser"
	"github.com/simpleuser/simpleuser/user"
)

// validate checks input structs against their validate tags. It is safe
// for concurrent use and caches struct metadata.
var validate = newValidator()

func newValidator() *validator.Validate {
	v := validator.New(validator.WithRequiredStructEnabled())
	// Report fields by their wire name (json, else query tag).
	v.RegisterTagNameFunc(func(sf reflect.StructField) string {
		for _, tag := range []string{"json", "query", "path"} {
			if name, _, _ := strings.Cut(sf.Tag.Get(tag), ","); name != "" && name != "-" {
				return name
			}
		}
		return sf.Name
	})
	// useremail is the service's own address check (user.ValidEmail), on top
	// of the validator's email rule: both must pass.
	if err := v.RegisterValidation("useremail", func(fl validator.FieldLevel) bool {
		return user.ValidEmail(fl.Field().String())
	}); err != nil {
		panic(err)
	}
	return v
}

// check validates dst (a pointer to an input struct) and merges the
// failures with the decoding failures already in errs. It returns nil or a
// 400 INVALID_INPUT error whose message lists one class-validator-style
// message per failing field, in field order, joined by "; ".
func check(dst any, errs inputErrors) error {
	if n, ok := dst.(interface{ normalize() }); ok {
		n.normalize()
	}
	t := reflect.TypeOf(dst).Elem()
	if err := validate.Struct(dst); err != nil {
		var ves validator.ValidationErrors
		if !errors.As(err, &ves) {
			return simpleuser.InvalidInput("Invalid input")
		}
		for _, fe := range ves {
			sf, _ := t.FieldByName(fe.StructField())
			errs.add(fe.Field(), message(fe, sf))
		}
	}
	if len(errs) == 0 {
		return nil
	}
	var msgs []string
	for i := 0; i < t.NumField(); i++ {
		name := validatedName(t.Field(i))
		if m, ok := errs[name]; ok {
			msgs = append(msgs, m)
			delete(errs, name)
		}
	}
	// Then fields that are not dst's (a repeated extra form field), by name.
	for _, name := range slices.Sorted(maps.Keys(errs)) {
		msgs = append(msgs, errs[name])
	}
	return simpleuser.InvalidInput(strings.Join(msgs, "; "))
}

func validatedName(sf reflect.StructField) string {
	for _, tag := range []string{"json", "query", "path"} {
		if name, _, _ := strings.Cut(sf.Tag.Get(tag), ","); name != "" && name != "-" {
			return name
		}
	}
	return sf.Name
}

// message renders a validation failure like class-validator does.
func message(fe validator.FieldError, sf reflect.StructField) string {
	name := fe.Field()
	if fe.Tag() == "useremail" {
		if v, ok := fe.Value().(string); ok {
			if m := simpleuser.EmailMessage(name, user.CheckEmail(v)); m != "" {
				return m
			}
		}
	}
	if m := sf.Tag.Get("msg"); m != "" {
		return name + " " + m
	}
	switch fe.Tag() {
	case "required", "min":
		return name + " should not be empty"
	case "email", "useremail":
		return name + " must be an email"
	case "oneof":
		return name + " must be one of the following values: " + strings.Join(strings.Fields(fe.Param()), ", ")
	case "max":
		return name + " must be shorter than or equal to " + fe.Param() + " characters"
	}
	return name + " is invalid"
}
