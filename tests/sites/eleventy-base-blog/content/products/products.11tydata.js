// Cohort: the shop's products use the blog's base layout.
export default {
	layout: "layouts/base.njk",
};
